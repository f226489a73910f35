"""Echoes x and says which worker process answered."""
import os

import numpy as np


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        return {"y": inputs["x"], "pid": np.array([os.getpid()], dtype=np.int64)}
