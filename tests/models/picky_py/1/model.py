"""y = 2x, unless the first value asks for trouble a client can cause:
-1: the model raises (500); -2: it flags the input (400);
0 < x < 1: it sleeps x seconds first (a slow request)."""
import time

from modelgate_runtime import InvalidInput


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        x = inputs["x"]
        first = float(x.ravel()[0]) if x.size else 1.0
        if first == -1:
            raise RuntimeError("picky_py refuses -1")
        if first == -2:
            raise InvalidInput("input 'x': -2 is not allowed")
        if 0 < first < 1:
            time.sleep(first)
        return {"y": 2 * x}
