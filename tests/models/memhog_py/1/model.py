"""Allocates `mb` megabytes; above the worker's 1 GiB address-space limit
the allocation fails inside the worker."""
import numpy as np


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        mb = int(inputs["mb"][0])
        block = np.ones(mb * 1024 * 1024 // 8)
        return {"sum": np.array([block.sum()])}
