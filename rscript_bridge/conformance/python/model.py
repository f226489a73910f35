"""The conformance model (see ../README.md); r/model.R is its twin."""
import numpy as np

from modelgate_runtime import InvalidInput


class Model:
    def __init__(self, model_dir):
        pass

    @staticmethod
    def _param(name, v):
        if isinstance(v, bool):
            return f"{name}={str(v).lower()}:bool"
        if isinstance(v, (int, float)):
            return f"{name}={v:.15g}:number"
        return f"{name}={v}:string"

    def predict(self, inputs, parameters):  # two arguments: the request's parameters
        out = {}
        for name, v in inputs.items():
            if name == "x":
                out["y"] = v.astype(np.float64) * 2
            elif name == "m":
                out["m_t"] = v.T
            elif name == "s":
                out["s_upper"] = np.array([str(e).upper() for e in v.ravel()], dtype=object)
            elif name == "b":
                out["not_b"] = ~v
            elif name == "i":
                out["i_plus"] = (v + 1).astype(np.int32)
            elif name == "i64":
                out["i64_sum"] = np.array([float(v.sum())])
            elif name == "na_f":  # R's NA_real_ bits, then NaN and the infinities
                na = np.array([0x7FF00000000007A2], dtype="<u8").view("<f8")[0]
                out["f_na"] = np.array([na, np.nan, np.inf, -np.inf])
            elif name == "na_s":
                out["s_na"] = np.array(["a", None], dtype=object)
            elif name == "na_i":
                out["i_na"] = np.array([1, 2, None], dtype=object)
            elif name == "na_b":
                out["b_na"] = [None]
            elif name == "obj":
                out["o"] = {"k": 1}
            elif name == "raw":
                out["raw_echo"] = v
                out["raw_kinds"] = np.array(["bytes" if isinstance(e, bytes) else "text" for e in v.ravel()],
                                            dtype=object)
            elif name == "p":
                out["params"] = np.array([self._param(k, parameters[k]) for k in sorted(parameters)],
                                         dtype=object)
            elif name == "bad":
                raise InvalidInput("flagged by model: bad")
            elif name == "boom":
                raise RuntimeError("boom requested")
        return out
