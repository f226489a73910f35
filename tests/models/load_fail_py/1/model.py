import os


class Model:
    def __init__(self, model_dir):
        path = os.path.join(model_dir, "weights.pkl")
        raise FileNotFoundError(f"artifact missing: {path}")
