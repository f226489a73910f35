"""Request parameters, optional inputs and BYTES as the model sees them
(tests/integration/py/test_model_inputs.py); the same code serves tensor
and data-frame mode. y = x * (w, default 2) * parameters["scale"] (default 1);
params lists every parameter as "name=value:type"; s_echo returns s as
received and s_kinds says "text" (str) or "bytes" per element."""
import numpy as np


def _describe(name, v):
    if isinstance(v, bool):
        return f"{name}={str(v).lower()}:bool"
    if isinstance(v, (int, float)):
        return f"{name}={v:.15g}:number"
    return f"{name}={v}:string"


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs, parameters):
        x = np.asarray(inputs["x"], dtype=np.float64)
        w = np.asarray(inputs["w"], dtype=np.float64) if "w" in inputs else 2.0
        out = {
            "y": x * w * parameters.get("scale", 1.0),
            "has_w": np.array(["w" in inputs]),
            "params": np.array([_describe(k, parameters[k]) for k in sorted(parameters)], dtype=object),
        }
        if "s" in inputs:
            s = np.asarray(inputs["s"], dtype=object)
            out["s_echo"] = s
            out["s_kinds"] = np.array(["bytes" if isinstance(e, bytes) else "text" for e in s.ravel()],
                                      dtype=object)
        return out
