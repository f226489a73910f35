import envpath_helper  # found through config.json's python_path


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        return {"y": envpath_helper.triple(inputs["x"])}
