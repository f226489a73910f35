"""Prints during predict, naming the k values of its (batched) call: print()
to stdout (also 56 KB of long lines), logging to stderr, C's puts() through libc's buffered stdout (as a
native library would), and a last stderr line without its newline."""
import ctypes
import logging
import sys
import time

from modelgate_runtime import InvalidInput

_LIBC = ctypes.CDLL(None)
logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
print("logid py loading")


class Model:
    def __init__(self, model_dir):
        self.log = logging.getLogger("logid")

    def predict(self, inputs):
        k = inputs["k"]
        if (k >= 1000).any():  # a bad row fails the whole (batched) call
            raise InvalidInput("k must be below 1000")
        ks = " ".join(str(int(v)) for v in k)
        print(f"logid py begin {ks}")
        time.sleep(1.0 if (k >= 200).any() else 0.1)  # 200..999: hold the worker
        self.log.info("logid py stderr %s", ks)
        for i in range(1, 8):  # 56 KB: more than one read of the pipe
            print(f"logid py long{i} {ks} | " + "x" * 8000)
        _LIBC.puts(f"logid py native {ks}".encode())
        sys.stderr.write(f"logid py unfinished {ks}")
        return {"y": inputs["k"]}
