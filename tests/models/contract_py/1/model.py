"""Breaks the output contract of config.json in the way `case` picks (see
tests/models/README.md); r twin: contract_r."""
import numpy as np


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        case = int(inputs["case"][0])
        y, s = np.array([1.0]), np.array(["ok"], dtype=object)
        if case == 0:  # as declared, plus an undeclared output
            return {"y": y, "s": s, "extra": np.array([7.0])}
        if case == 1:  # y declared [1]
            return {"y": np.array([1.0, 2.0, 3.0]), "s": s}
        if case == 2:  # y missing
            return {"s": s, "other": y}
        if case == 3:  # s declared BYTES
            return {"y": y, "s": np.array([1.5])}
        if case == 4:  # None in BYTES
            return {"y": y, "s": np.array(["a", None], dtype=object)}
        if case == 5:  # an object in BYTES
            return {"y": y, "s": np.array([{"k": 1}], dtype=object)}
        return {"y": y, "s": s}
