"""Echoes each input as <name>_out, unchanged (binary tensor data tests)."""


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        return {name + "_out": value for name, value in inputs.items()}
