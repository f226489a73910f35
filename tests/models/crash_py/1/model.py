"""Crashes the whole worker process when x[0] < 0; doubles x otherwise."""
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
        return {"y": x * 2}
