"""Returns its input x unchanged as y (FP64) and z (FP32 in config.json: the
daemon converts), and c: R's NA, NaN, +Inf, -Inf and 1.5 made here; r twin:
missing_r."""
import numpy as np

NA = np.array([0x7FF00000000007A2], dtype="<u8").view("<f8")[0]


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        x = inputs["x"]
        return {"y": x, "z": x, "c": np.array([NA, np.nan, np.inf, -np.inf, 1.5])}
