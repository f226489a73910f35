"""A signature the daemon must not trust: an unknown datatype (the runtime
passes it on; the daemon's Hello check fails the load naming the entry)."""


class Model:
    signature = {"inputs": [{"name": "x", "datatype": "FLOAT64", "shape": [-1]}]}

    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        return {"y": inputs["x"]}
