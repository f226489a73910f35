"""Returns its input: the benchmark's trivial Python model, so the cost of the
gateway itself (front end, queue, pipe, runtime) is what gets measured."""


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):  # inputs: {"x": float64 array [n]}
        return {"y": inputs["x"]}
