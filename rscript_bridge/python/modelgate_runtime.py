"""modelgate Python worker runtime.

Loads one model version directory (``model.py`` defining ``class Model``) and
answers modelgate.worker.v1 frames: reads from fd 3, writes to fd 4 (see
proto/worker.proto). Model code may print freely: stdout and stderr go to the
daemon's log, never into the frame stream.

Model authors import only ``InvalidInput`` from here. ``predict(self, inputs,
parameters)`` receives the request's parameters as a dict when it takes the
argument (checked once at load); ``predict(self, inputs)`` models never see
them. BYTES elements arrive as ``str`` when valid UTF-8, else as ``bytes``.
A ``signature`` dict or a pandas zero-row DataFrame ``prototype`` on the Model
declares its inputs (``declared_signature``) instead of config.json.
"""

import ctypes
import importlib.util
import inspect
import os
import platform
import struct
import sys
import traceback

import numpy as np

import worker_pb2 as pb

PROTOCOL_VERSION = 1
# The frame limit is the daemon's (kMaxFrameBytes in src/common/limits.h),
# passed in MODELGATE_MAX_FRAME_BYTES; the protocol's 64 MiB default applies
# only when the runtime is started without it (e.g. by hand).
FRAME_LIMIT_ENV = "MODELGATE_MAX_FRAME_BYTES"
DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
_MAX_FRAME_HEADER_VALUE = 0xFFFFFFFF  # a 4-byte length


def frame_limit(env=os.environ):
    """The frame limit from `env`; ValueError when it is set but not a size."""
    value = env.get(FRAME_LIMIT_ENV)
    if value is None:
        return DEFAULT_MAX_FRAME_BYTES
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= _MAX_FRAME_HEADER_VALUE:
        raise ValueError(f"{FRAME_LIMIT_ENV}={value[:32]!r} is not a frame size in bytes")
    return int(value)


MAX_FRAME_BYTES = frame_limit()


class InvalidInput(ValueError):
    """Raise from Model.predict to answer 400 / INVALID_ARGUMENT with your message."""


_NUMPY_OF = {
    "BOOL": np.dtype("bool"),
    "UINT8": np.dtype("<u1"), "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"), "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("<i1"), "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"), "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"), "FP32": np.dtype("<f4"), "FP64": np.dtype("<f8"),
}
_DATATYPE_OF = {(dt.kind, dt.itemsize): name for name, dt in _NUMPY_OF.items()}


class ProtocolError(Exception):
    pass



def read_frame(stream):
    """Returns a Frame, or None on clean EOF. Raises ProtocolError otherwise."""
    header = stream.read(4)
    if not header:
        return None
    if len(header) < 4:
        raise ProtocolError("truncated frame header")
    (length,) = struct.unpack("<I", header)
    if length > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {length} bytes exceeds max {MAX_FRAME_BYTES}")
    body = stream.read(length)
    if body is None or len(body) < length:
        raise ProtocolError("truncated frame body")
    frame = pb.Frame()
    frame.ParseFromString(body)
    return frame


_LIBC = ctypes.CDLL(None)


def flush_output():
    """Pushes everything printed so far into the stdout/stderr pipes: called
    before each frame, so what a request printed is in the pipes before its
    answer (the daemon reads them when the answer arrives and tags each line
    with the request's id). The daemon starts Python with -u, which leaves
    sys.stdout and C's stdout unbuffered already; this covers a model that
    replaced them with buffered streams, and a runtime started without -u."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 -- a model's broken stream must not stop the answer
            pass
    _LIBC.fflush(None)


def write_frame(stream, frame):
    body = frame.SerializeToString()
    flush_output()
    stream.write(struct.pack("<I", len(body)) + body)
    stream.flush()


def text_or_bytes(b):
    """A BYTES element as the model sees it: str when it is valid UTF-8, else bytes."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return bytes(b)


def decode_tensor(t):
    shape = tuple(int(d) for d in t.shape)
    if t.datatype == "BYTES":
        # An object array of str and bytes elements, nothing replaced or cut.
        arr = np.empty(len(t.strings), dtype=object)
        arr[:] = [text_or_bytes(s) for s in t.strings]
    else:
        dtype = _NUMPY_OF.get(t.datatype)
        if dtype is None:
            raise InvalidInput(f"input '{t.name}': datatype {t.datatype} is not supported by the Python runtime")
        arr = np.frombuffer(t.raw, dtype=dtype)
    expected = int(np.prod(shape)) if shape else 1
    if arr.size != expected:
        raise InvalidInput(f"input '{t.name}': shape {list(shape)} needs {expected} elements, got {arr.size}")
    return arr.reshape(shape)


def _cannot_carry(name, i, v):
    what = "None" if v is None else f"an object of type {type(v).__name__}"
    return TypeError(f"output '{name}': element {i} is {what}, which BYTES cannot carry"
                     " (return str or bytes; use NaN in a float array for a missing number)")


def _bytes_elements(name, flat):
    """BYTES elements: str (as UTF-8) or bytes. Anything else (None first:
    the usual missing value; then a dict, a list, a number in an object
    array) has no faithful BYTES form: an error naming the output and the
    element (row-major, from 0), never its str()."""
    if flat.dtype.kind == "O":
        for i, v in enumerate(flat):
            if v is None:
                raise _cannot_carry(name, i, v)
    out = []
    for i, v in enumerate(flat):
        if isinstance(v, bytes):
            out.append(v)
        elif isinstance(v, str):
            out.append(v.encode("utf-8"))
        else:
            raise _cannot_carry(name, i, v)
    return out


def encode_tensor(name, value, out):
    if hasattr(value, "to_numpy"):  # pandas Series / DataFrame column
        value = value.to_numpy()
    try:
        arr = np.asarray(value)
    except UnicodeDecodeError:  # str beside non-ASCII bytes: numpy cannot unify them
        arr = np.array(value, dtype=object)
    if arr.dtype.kind in ("U", "S") and not isinstance(value, np.ndarray):
        # numpy's fixed-width strings drop trailing NULs: keep the objects.
        arr = np.array(value, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    out.name = name
    out.shape.extend(arr.shape)
    if arr.dtype.kind in ("U", "S", "O"):
        out.datatype = "BYTES"
        out.strings.extend(_bytes_elements(name, arr.ravel()))
        return
    key = (arr.dtype.kind, arr.dtype.itemsize)
    if arr.dtype.kind == "b":
        key = ("b", 1)
    datatype = _DATATYPE_OF.get(key)
    if datatype is None:
        raise TypeError(f"output '{name}': numpy dtype {arr.dtype} has no V2 datatype")
    out.datatype = datatype
    out.raw = np.ascontiguousarray(arr, dtype=_NUMPY_OF[datatype]).tobytes()


def _spec(entry, where):
    """One {"name", "datatype", "shape", "levels"?} entry of a `signature`
    dict as a TensorSpec; the daemon checks the values themselves."""
    if not isinstance(entry, dict):
        raise TypeError(f"{where} must be a dict with name, datatype, shape, got {type(entry).__name__}")
    unknown = set(entry) - {"name", "datatype", "shape", "levels"}
    if unknown:
        raise TypeError(f"{where} has unknown keys {sorted(unknown)}")
    try:
        spec = pb.TensorSpec(name=entry["name"], datatype=entry["datatype"],
                             shape=[int(d) for d in entry["shape"]],
                             levels=[str(v) for v in entry.get("levels", ())])
    except KeyError as e:
        raise TypeError(f"{where} has no {e.args[0]!r}") from None
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: {e}") from None
    return spec


def _prototype_specs(proto):
    """Inputs from a pandas DataFrame `prototype` (rows ignored): one of shape
    [-1] per column; numeric and bool dtypes map to their V2 datatype, object
    and string columns to BYTES, a category of strings to BYTES whose levels
    are its categories."""
    import pandas as pd

    if not isinstance(proto, pd.DataFrame):
        raise TypeError(f"Model.prototype must be a pandas DataFrame, got {type(proto).__name__}")
    if len(proto.columns) == 0:
        raise TypeError("Model.prototype has no columns")
    specs, levels = [], {}
    for name, dtype in proto.dtypes.items():
        spec = pb.TensorSpec(name=str(name), shape=[-1])
        if isinstance(dtype, pd.CategoricalDtype):
            cats = list(dtype.categories)
            if not all(isinstance(c, str) for c in cats):
                raise TypeError(f"Model.prototype column '{name}': a category's categories must be strings")
            spec.datatype = "BYTES"
            spec.levels.extend(cats)
            levels[str(name)] = cats
        elif dtype.kind in ("O", "U", "S") or isinstance(dtype, pd.StringDtype):
            spec.datatype = "BYTES"
        else:
            key = ("b", 1) if dtype.kind == "b" else (dtype.kind, dtype.itemsize)
            if getattr(dtype, "kind", None) not in ("b", "i", "u", "f") or key not in _DATATYPE_OF:
                raise TypeError(f"Model.prototype column '{name}' has dtype {dtype}, which has no V2 datatype")
            spec.datatype = _DATATYPE_OF[key]
        specs.append(spec)
    return specs, levels


class Signature:
    """What the model's code declares: filled into the Hello."""

    def __init__(self, inputs=(), outputs=(), source="", dataframe=False, levels=None):
        self.inputs, self.outputs, self.source = list(inputs), list(outputs), source
        self.dataframe = dataframe
        self.levels = levels or {}  # category columns: name -> categories


def declared_signature(model):
    """The signature `model` declares: a `signature` dict {"inputs": [...],
    "outputs": [...]} (class or instance attribute), or a pandas DataFrame
    `prototype` (which also makes the inputs a DataFrame). None when neither."""
    # Only a dict `signature` / a DataFrame `prototype` declare anything: a
    # Model that uses either name for something else (a method, a string)
    # loads as it did before signatures existed.
    sig = getattr(model, "signature", None)
    if isinstance(sig, dict):
        if not set(sig) <= {"inputs", "outputs"} or "inputs" not in sig:
            raise TypeError('Model.signature must be a dict {"inputs": [...], "outputs": [...]}')
        return Signature(
            [_spec(e, f"Model.signature['inputs'][{i}]") for i, e in enumerate(sig["inputs"])],
            [_spec(e, f"Model.signature['outputs'][{i}]") for i, e in enumerate(sig.get("outputs", ()))],
            "Model.signature in model.py")
    proto = getattr(model, "prototype", None)
    if proto is not None and type(proto).__name__ == "DataFrame" and hasattr(proto, "dtypes"):
        specs, levels = _prototype_specs(proto)
        return Signature(specs, (), "the prototype DataFrame in model.py", True, levels)
    return None


def to_frame_inputs(infer, dataframe, levels=None):
    arrays = {t.name: decode_tensor(t) for t in infer.inputs}
    if not dataframe:
        return arrays
    import pandas as pd

    columns = {}
    for name, arr in arrays.items():
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise InvalidInput(f"input '{name}': data-frame mode needs 1-D inputs, got shape {list(arr.shape)}")
        columns[name] = arr
    lengths = {len(a) for a in columns.values()}
    if len(lengths) > 1:
        raise InvalidInput(f"data-frame mode needs inputs of equal length, got {sorted(lengths)}")
    # Category columns of a prototype keep its categories (the daemon let
    # only those values through).
    for name, cats in (levels or {}).items():
        if name in columns:
            columns[name] = pd.Categorical(columns[name], categories=cats)
    return pd.DataFrame(columns)


def decode_parameters(infer):
    """The request's parameters: a dict of bool, int, float and str values."""
    return {p.name: getattr(p, p.WhichOneof("value")) for p in infer.parameters if p.WhichOneof("value")}


def takes_parameters(predict):
    """Whether `predict` (bound) takes the parameters: a second positional
    argument without a default. *args and arguments with defaults
    (``predict(self, inputs, threshold=0.5)``) never receive them, so
    one-argument models keep working unchanged."""
    try:
        params = inspect.signature(predict).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 and positional[1].default is inspect.Parameter.empty


def outputs_of(result):
    if hasattr(result, "columns") and hasattr(result, "items"):  # DataFrame
        return list(result.items())
    if not isinstance(result, dict):
        raise TypeError(f"predict must return a dict of arrays (or a DataFrame), got {type(result).__name__}")
    return list(result.items())


def load_model(model_dir):
    path = os.path.join(model_dir, "model.py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    sys.path.insert(0, model_dir)
    spec = importlib.util.spec_from_file_location("modelgate_user_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "Model"):
        raise AttributeError(f"{path} defines no class Model")
    return module.Model(model_dir)


def serve(model_dir, dataframe, fd_in=3, fd_out=4):
    # Buffered readers loop until n bytes or EOF; raw pipe reads may return short.
    inp = os.fdopen(fd_in, "rb")
    out = os.fdopen(fd_out, "wb")
    try:
        model = load_model(model_dir)
        signature = declared_signature(model)
    except BaseException as e:  # noqa: BLE001 -- any load failure is reported
        frame = pb.Frame(id=0)
        frame.error.message = f"model load failed: {type(e).__name__}: {e}"
        frame.error.traceback = traceback.format_exc()
        write_frame(out, frame)
        return 1

    # Inspected once: predict(self, inputs) models never see parameters.
    with_parameters = takes_parameters(model.predict)
    hello = pb.Frame(id=0)
    hello.hello.protocol_version = PROTOCOL_VERSION
    hello.hello.runtime = "python"
    hello.hello.runtime_version = f"Python {platform.python_version()}, numpy {np.__version__}"
    hello.hello.pid = os.getpid()
    hello.hello.model_dir = model_dir
    levels = {}
    if signature is not None:
        hello.hello.inputs.extend(signature.inputs)
        hello.hello.outputs.extend(signature.outputs)
        hello.hello.signature_source = signature.source
        dataframe = dataframe or signature.dataframe
        levels = signature.levels
    hello.hello.dataframe = dataframe
    write_frame(out, hello)

    while True:
        try:
            frame = read_frame(inp)
        except ProtocolError as e:
            print(f"modelgate worker: {e}", file=sys.stderr)
            return 2
        if frame is None or frame.WhichOneof("body") == "shutdown":
            return 0
        kind = frame.WhichOneof("body")
        reply = pb.Frame(id=frame.id)
        if kind == "ping":
            reply.pong.SetInParent()
        elif kind == "infer":
            try:
                inputs = to_frame_inputs(frame.infer, dataframe, levels)
                if with_parameters:
                    result = model.predict(inputs, decode_parameters(frame.infer))
                else:
                    result = model.predict(inputs)
                for name, value in outputs_of(result):
                    encode_tensor(str(name), value, reply.result.outputs.add())
                reply.result.SetInParent()
            except Exception as e:  # noqa: BLE001 -- every request gets an answer
                reply = pb.Frame(id=frame.id)
                reply.error.message = str(e) if isinstance(e, InvalidInput) else f"{type(e).__name__}: {e}"
                reply.error.traceback = traceback.format_exc()
                reply.error.invalid_input = isinstance(e, InvalidInput)
        else:
            reply.error.message = f"unexpected frame kind '{kind}'"
        write_frame(out, reply)
