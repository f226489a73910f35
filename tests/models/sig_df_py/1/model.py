"""Signature declared in code as a zero-row pandas DataFrame `prototype`
whose inputs config.json also declares, in agreement (tests/integration/py/
test_signatures.py): the category's categories still limit `color`."""
import numpy as np
import pandas as pd


class Model:
    def __init__(self, model_dir):
        self.prototype = pd.DataFrame({
            "x": pd.Series([], dtype="float64"),
            "k": pd.Series([], dtype="int64"),
            "color": pd.Categorical([], categories=["red", "green", "blue"]),
        })

    def predict(self, inputs):
        return {
            "y": inputs["x"].to_numpy() * inputs["k"].to_numpy(),
            "color_code": inputs["color"].cat.codes.to_numpy().astype(np.int64),
            "color_dtype": np.array([str(inputs["color"].dtype)], dtype=object),
        }
