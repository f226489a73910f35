"""The conformance model (see ../README.md); r/model.R is its twin."""
import numpy as np

from modelgate_runtime import InvalidInput


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        out = {}
        for name, v in inputs.items():
            if name == "x":
                out["y"] = v.astype(np.float64) * 2
            elif name == "m":
                out["m_t"] = v.T
            elif name == "s":
                out["s_upper"] = np.array([str(e).upper() for e in v.ravel()], dtype=object)
            elif name == "b":
                out["not_b"] = ~v
            elif name == "i":
                out["i_plus"] = (v + 1).astype(np.int32)
            elif name == "i64":
                out["i64_sum"] = np.array([float(v.sum())])
            elif name == "bad":
                raise InvalidInput("flagged by model: bad")
            elif name == "boom":
                raise RuntimeError("boom requested")
        return out
