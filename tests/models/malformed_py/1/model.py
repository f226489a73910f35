"""A worker that returns malformed or awkward outputs on request, to test the
daemon's checks of worker results. x[0] picks the output:
  0  y = x (a normal answer)
  1  FP64 y of shape [2^62, 4] and no data (the product wraps to 0)
  2  BYTES y of shape [2^62, 4] and no data
  3  FP64 y of shape [20000000, 0] (no data, 2e7 JSON rows)
  4  BYTES y holding bytes that are not UTF-8
  5  FP16 y = x
  6  FP64 y of shape [3] holding one element
  7  two outputs named y
Shapes numpy cannot build are written straight into the Result frame by
wrapping the runtime's encode_tensor, as a buggy runtime would."""
import numpy as np

import modelgate_runtime

_encode = modelgate_runtime.encode_tensor


class Raw:
    def __init__(self, datatype, shape, raw=b"", strings=()):
        self.datatype, self.shape, self.raw, self.strings = datatype, shape, raw, strings


class Renamed:
    def __init__(self, name, value):
        self.name, self.value = name, value


def _encode_raw(name, value, out):
    if isinstance(value, Renamed):
        return _encode(value.name, value.value, out)
    if not isinstance(value, Raw):
        return _encode(name, value, out)
    out.name = name
    out.datatype = value.datatype
    out.shape.extend(value.shape)
    out.raw = value.raw
    out.strings.extend(value.strings)


modelgate_runtime.encode_tensor = _encode_raw


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        x = inputs["x"]
        mode = int(x[0])
        if mode == 1:
            return {"y": Raw("FP64", [2 ** 62, 4])}
        if mode == 2:
            return {"y": Raw("BYTES", [2 ** 62, 4])}
        if mode == 3:
            return {"y": Raw("FP64", [20000000, 0])}
        if mode == 4:
            return {"y": np.array([b"ok", b"\xff\xfe bad"], dtype=object)}
        if mode == 5:
            return {"y": x.astype(np.float16)}
        if mode == 6:
            return {"y": Raw("FP64", [3], raw=np.array([1.0]).tobytes())}
        if mode == 7:
            return {"y": x, "y_again": Renamed("y", x)}
        return {"y": x}
