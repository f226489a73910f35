"""Crashes the whole worker process when x[0] < 0; doubles x otherwise, and
writes its input to stderr when x[0] > 1000 (as a model that logs its
inputs would)."""
import os
import sys


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        x = inputs["x"]
        if x[0] < 0:
            sys.stderr.write("crash_py: negative input, exiting hard\n")
            sys.stderr.flush()
            os._exit(3)
        if x[0] > 1000:
            sys.stderr.write(f"crash_py: input {x.tolist()}\n")
            sys.stderr.flush()
        return {"y": x * 2}
