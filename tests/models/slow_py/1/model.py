import sys
import time

sys.stderr.write("slow_py loaded and waiting for work\n")


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        seconds = float(inputs["seconds"].ravel()[0])
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        time.sleep(seconds)
        return {"slept": inputs["seconds"]}
