#include "python_model.h"

#include <vector>

namespace modelgate::worker_host::py {
namespace {

// The load-time rules of rscript_bridge/python/modelgate_runtime.py
// (load_model, declared_signature, takes_parameters), kept in Python so
// their messages stay the script runtime's. Specs come back as tuples
// (name, datatype, shape, levels).
constexpr const char* kLoadSource = R"PY(
import importlib.util
import inspect
import os

_V2 = {("b", 1): "BOOL", ("u", 1): "UINT8", ("u", 2): "UINT16", ("u", 4): "UINT32",
       ("u", 8): "UINT64", ("i", 1): "INT8", ("i", 2): "INT16", ("i", 4): "INT32",
       ("i", 8): "INT64", ("f", 2): "FP16", ("f", 4): "FP32", ("f", 8): "FP64"}


def load_model(model_dir):
    path = os.path.join(model_dir, "model.py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist")
    spec = importlib.util.spec_from_file_location("modelgate_user_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "Model"):
        raise AttributeError(f"{path} defines no class Model")
    return module.Model(model_dir)


def _spec(entry, where):
    if not isinstance(entry, dict):
        raise TypeError(f"{where} must be a dict with name, datatype, shape, got {type(entry).__name__}")
    unknown = set(entry) - {"name", "datatype", "shape", "levels"}
    if unknown:
        raise TypeError(f"{where} has unknown keys {sorted(unknown)}")
    try:
        name, datatype = entry["name"], entry["datatype"]
        shape = [int(d) for d in entry["shape"]]
        levels = [str(v) for v in entry.get("levels", ())]
    except KeyError as e:
        raise TypeError(f"{where} has no {e.args[0]!r}") from None
    except (TypeError, ValueError) as e:
        raise TypeError(f"{where}: {e}") from None
    for key, value in (("name", name), ("datatype", datatype)):
        if not isinstance(value, str):
            raise TypeError(f"{where}: {key} must be a str, got {type(value).__name__}")
    for d in shape:
        if not -2**63 <= d < 2**63:
            raise TypeError(f"{where}: Value out of range: {d}")
    return (name, datatype, shape, levels)


def _prototype_specs(proto):
    import pandas as pd

    if not isinstance(proto, pd.DataFrame):
        raise TypeError(f"Model.prototype must be a pandas DataFrame, got {type(proto).__name__}")
    if len(proto.columns) == 0:
        raise TypeError("Model.prototype has no columns")
    specs, levels = [], {}
    for name, dtype in proto.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            cats = list(dtype.categories)
            if not all(isinstance(c, str) for c in cats):
                raise TypeError(f"Model.prototype column '{name}': a category's categories must be strings")
            specs.append((str(name), "BYTES", [-1], cats))
            levels[str(name)] = cats
        elif dtype.kind in ("O", "U", "S") or isinstance(dtype, pd.StringDtype):
            specs.append((str(name), "BYTES", [-1], []))
        else:
            key = ("b", 1) if dtype.kind == "b" else (dtype.kind, dtype.itemsize)
            if getattr(dtype, "kind", None) not in ("b", "i", "u", "f") or key not in _V2:
                raise TypeError(f"Model.prototype column '{name}' has dtype {dtype}, which has no V2 datatype")
            specs.append((str(name), _V2[key], [-1], []))
    return specs, levels


def declared_signature(model):
    sig = getattr(model, "signature", None)
    if isinstance(sig, dict):
        if not set(sig) <= {"inputs", "outputs"} or "inputs" not in sig:
            raise TypeError('Model.signature must be a dict {"inputs": [...], "outputs": [...]}')
        return ([_spec(e, f"Model.signature['inputs'][{i}]") for i, e in enumerate(sig["inputs"])],
                [_spec(e, f"Model.signature['outputs'][{i}]") for i, e in enumerate(sig.get("outputs", ()))],
                "Model.signature in model.py", False, {})
    proto = getattr(model, "prototype", None)
    if proto is not None and type(proto).__name__ == "DataFrame" and hasattr(proto, "dtypes"):
        specs, levels = _prototype_specs(proto)
        return (specs, [], "the prototype DataFrame in model.py", True, levels)
    return None


def takes_parameters(predict):
    try:
        params = inspect.signature(predict).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 and positional[1].default is inspect.Parameter.empty
)PY";

// The helpers' namespace, compiled once.
PyObject* Helpers() {
  static PyObject* globals = nullptr;
  if (globals != nullptr) return globals;
  Ref code(Py_CompileString(kLoadSource, "<modelgate_runtime>", Py_file_input));
  if (!code) return nullptr;
  Ref dict(PyDict_New());
  if (!dict || PyDict_SetItemString(dict.get(), "__builtins__", PyEval_GetBuiltins()) < 0)
    return nullptr;
  Ref done(PyEval_EvalCode(code.get(), dict.get(), dict.get()));
  if (!done) return nullptr;
  globals = dict.release();
  return globals;
}

Ref Call(const char* helper, PyObject* arg) {
  PyObject* helpers = Helpers();
  PyObject* fn = helpers != nullptr ? PyDict_GetItemString(helpers, helper) : nullptr;
  if (fn == nullptr) {
    if (!PyErr_Occurred()) PyErr_Format(PyExc_SystemError, "no load helper %s", helper);
    return Ref();
  }
  return Ref(PyObject_CallOneArg(fn, arg));
}

// One (name, datatype, shape, levels) tuple into *spec.
bool FillSpec(PyObject* tuple, worker::v1::TensorSpec* spec) {
  PyObject *name = nullptr, *datatype = nullptr, *shape = nullptr, *levels = nullptr;
  if (!PyArg_ParseTuple(tuple, "UUOO", &name, &datatype, &shape, &levels)) return false;
  const char* n = PyUnicode_AsUTF8(name);
  const char* d = PyUnicode_AsUTF8(datatype);
  if (n == nullptr || d == nullptr) return false;
  spec->set_name(n);
  spec->set_datatype(d);
  Ref shape_seq(PySequence_Fast(shape, "shape"));
  Ref levels_seq(PySequence_Fast(levels, "levels"));
  if (!shape_seq || !levels_seq) return false;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(shape_seq.get()); ++i) {
    const long long dim = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(shape_seq.get(), i));
    if (dim == -1 && PyErr_Occurred()) return false;
    spec->add_shape(dim);
  }
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(levels_seq.get()); ++i) {
    const char* level = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(levels_seq.get(), i));
    if (level == nullptr) return false;
    spec->add_levels(level);
  }
  return true;
}

template <typename Add>
bool FillSpecs(PyObject* list, Add add) {
  Ref seq(PySequence_Fast(list, "specs"));
  if (!seq) return false;
  for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq.get()); ++i) {
    if (!FillSpec(PySequence_Fast_GET_ITEM(seq.get(), i), add())) return false;
  }
  return true;
}

}  // namespace

bool LoadModel(const std::string& model_dir, LoadedModel* out, worker::v1::Hello* hello) {
  Ref dir(PyUnicode_DecodeFSDefault(model_dir.c_str()));
  if (!dir) return false;
  out->model = Call("load_model", dir.get());
  if (!out->model) return false;
  Ref signature = Call("declared_signature", out->model.get());
  if (!signature) return false;
  out->levels = Ref(PyDict_New());
  if (!out->levels) return false;
  if (signature.get() != Py_None) {
    PyObject *inputs = nullptr, *outputs = nullptr, *source = nullptr, *levels = nullptr;
    int dataframe = 0;
    if (!PyArg_ParseTuple(signature.get(), "OOUpO!", &inputs, &outputs, &source, &dataframe,
                          &PyDict_Type, &levels))
      return false;
    if (!FillSpecs(inputs, [&] { return hello->add_inputs(); }) ||
        !FillSpecs(outputs, [&] { return hello->add_outputs(); }))
      return false;
    const char* text = PyUnicode_AsUTF8(source);
    if (text == nullptr) return false;
    hello->set_signature_source(text);
    out->dataframe = dataframe != 0;
    out->levels = Ref::Borrow(levels);
  }
  Ref predict(PyObject_GetAttrString(out->model.get(), "predict"));
  if (!predict) return false;
  Ref takes = Call("takes_parameters", predict.get());
  if (!takes) return false;
  out->takes_parameters = PyObject_IsTrue(takes.get()) == 1;
  return true;
}

}  // namespace modelgate::worker_host::py
