"""Sleeps for the largest of its batch's `seconds`, then echoes them: lets a
test put a short-deadlined and a patient request into one call."""
import time


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        seconds = inputs["seconds"]
        time.sleep(float(seconds.max()))
        return {"slept": seconds}
