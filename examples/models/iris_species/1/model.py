"""Iris species classifier. Imported once per worker."""
import os
import pickle

import numpy as np

from modelgate_runtime import InvalidInput


class Model:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
            self.clf = pickle.load(f)

    def predict(self, inputs):  # inputs: {"features": float64 array [n, 4]}
        x = inputs["features"]
        if not np.all(np.isfinite(x)):
            raise InvalidInput("features must be finite numbers")
        return {
            "label": self.clf.predict(x).astype(np.int64),
            "probabilities": self.clf.predict_proba(x),
        }
