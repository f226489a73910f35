"""y = 2x, or times the request parameter `scale`; -2 as the first value is
refused (400), so a test can check that refusals are never cached."""
from modelgate_runtime import InvalidInput


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs, parameters):
        x = inputs["x"]
        if x.size and float(x.ravel()[0]) == -2:
            raise InvalidInput("input 'x': -2 is not allowed")
        return {"y": float(parameters.get("scale", 2)) * x}
