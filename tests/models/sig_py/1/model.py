"""Signature declared in code as a `signature` dict (tests/integration/py/
test_signatures.py): no "inputs" in config.json. y = x summed over its
second dimension, `unit` one of two levels."""
import numpy as np


class Model:
    signature = {
        "inputs": [
            {"name": "x", "datatype": "FP32", "shape": [-1, 2]},
            {"name": "unit", "datatype": "BYTES", "shape": [1], "levels": ["cm", "inch"]},
        ],
        "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1]}],
    }

    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        scale = 2.54 if inputs["unit"][0] == "inch" else 1.0
        # y declared FP64: the model's FP32 is converted by the daemon.
        return {"y": inputs["x"].sum(axis=1) * np.float32(scale)}
