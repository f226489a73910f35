"""config.json declares an input `extra` that the signature does not: the
version fails to load naming `extra` and both declarations."""


class Model:
    signature = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}]}

    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        return {"y": inputs["x"]}
