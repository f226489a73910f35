"""Always prints garbage to stdout (harmless); with x[0] < 0 also writes
garbage into the frame pipe (fd 4), which must get the worker replaced."""
import os
import sys


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        sys.stdout.buffer.write(b"\x04\x00\x00\x00\xff\xfe garbage on stdout\n")
        sys.stdout.flush()
        if inputs["x"][0] < 0:
            os.write(4, b"\x08\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff")
        return {"y": inputs["x"]}
