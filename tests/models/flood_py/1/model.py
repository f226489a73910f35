"""Prints int(x[0]) lines to stdout per request: a model flooding its output."""
import sys


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        x = inputs["x"]
        sys.stdout.write("".join(f"flood line {i}\n" for i in range(int(x[0]))))
        sys.stdout.flush()
        return {"y": x}
