#include "python_inputs.h"
#define PY_ARRAY_UNIQUE_SYMBOL modelgate_numpy_api
#define NO_IMPORT_ARRAY
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <set>
#include <string>
#include <vector>

#include "python_tensors.h"

namespace modelgate::worker_host::py {
namespace {

PyObject* RaiseInvalid(const std::string& message) {
  PyErr_SetString(InvalidInputType(), message.c_str());
  return nullptr;
}

// pandas.<name>, imported on first use (data-frame models only).
PyObject* Pandas(const char* name) {
  static PyObject* pandas = nullptr;
  if (pandas == nullptr) pandas = PyImport_ImportModule("pandas");
  return pandas != nullptr ? PyObject_GetAttrString(pandas, name) : nullptr;
}

PyObject* ToDataFrame(PyObject* arrays, PyObject* levels) {
  Ref columns(PyDict_New());
  if (!columns) return nullptr;
  std::set<npy_intp> lengths;
  Py_ssize_t pos = 0;
  PyObject *name = nullptr, *value = nullptr;
  while (PyDict_Next(arrays, &pos, &name, &value)) {
    auto* arr = reinterpret_cast<PyArrayObject*>(value);
    Ref column = Ref::Borrow(value);
    if (PyArray_NDIM(arr) == 2 && PyArray_DIM(arr, 1) == 1) {
      npy_intp n = PyArray_DIM(arr, 0);
      PyArray_Dims dims{&n, 1};
      column = Ref(PyArray_Newshape(arr, &dims, NPY_CORDER));
      if (!column) return nullptr;
    } else if (PyArray_NDIM(arr) != 1) {
      const std::vector<int64_t> shape(PyArray_DIMS(arr), PyArray_DIMS(arr) + PyArray_NDIM(arr));
      return RaiseInvalid("input '" + Str(name) +
                          "': data-frame mode needs 1-D inputs, got shape " +
                          ShapeText(shape.data(), static_cast<int>(shape.size())));
    }
    lengths.insert(PyArray_DIM(reinterpret_cast<PyArrayObject*>(column.get()), 0));
    if (PyDict_SetItem(columns.get(), name, column.get()) < 0) return nullptr;
  }
  if (lengths.size() > 1) {
    const std::vector<int64_t> sorted(lengths.begin(), lengths.end());
    return RaiseInvalid("data-frame mode needs inputs of equal length, got " +
                        ShapeText(sorted.data(), static_cast<int>(sorted.size())));
  }
  // Category columns of a prototype keep its categories (the daemon let
  // only those values through).
  pos = 0;
  PyObject* cats = nullptr;
  while (levels != nullptr && PyDict_Next(levels, &pos, &name, &cats)) {
    PyObject* column = PyDict_GetItemWithError(columns.get(), name);
    if (column == nullptr) {
      if (PyErr_Occurred()) return nullptr;
      continue;
    }
    Ref categorical_type(Pandas("Categorical"));
    Ref args(PyTuple_Pack(1, column));
    Ref kwargs(Py_BuildValue("{sO}", "categories", cats));
    if (!categorical_type || !args || !kwargs) return nullptr;
    Ref categorical(PyObject_Call(categorical_type.get(), args.get(), kwargs.get()));
    if (!categorical || PyDict_SetItem(columns.get(), name, categorical.get()) < 0) return nullptr;
  }
  Ref frame_type(Pandas("DataFrame"));
  if (!frame_type) return nullptr;
  return PyObject_CallOneArg(frame_type.get(), columns.get());
}

}  // namespace

PyObject* BuildInputs(worker::v1::Infer* infer, bool dataframe, PyObject* levels) {
  Ref arrays(PyDict_New());
  if (!arrays) return nullptr;
  for (worker::v1::Tensor& t : *infer->mutable_inputs()) {
    Ref arr(DecodeInput(&t));
    if (!arr) return nullptr;
    Ref name(PyUnicode_DecodeUTF8(t.name().data(), static_cast<Py_ssize_t>(t.name().size()),
                                  "surrogateescape"));
    if (!name || PyDict_SetItem(arrays.get(), name.get(), arr.get()) < 0) return nullptr;
  }
  if (!dataframe) return arrays.release();
  return ToDataFrame(arrays.get(), levels);
}

PyObject* BuildParameters(const worker::v1::Infer& infer) {
  Ref params(PyDict_New());
  if (!params) return nullptr;
  for (const worker::v1::Parameter& p : infer.parameters()) {
    Ref value;
    switch (p.value_case()) {
      case worker::v1::Parameter::kBoolParam:
        value = Ref::Borrow(p.bool_param() ? Py_True : Py_False);
        break;
      case worker::v1::Parameter::kInt64Param:
        value = Ref(PyLong_FromLongLong(p.int64_param()));
        break;
      case worker::v1::Parameter::kDoubleParam:
        value = Ref(PyFloat_FromDouble(p.double_param()));
        break;
      case worker::v1::Parameter::kStringParam:
        value = Ref(PyUnicode_DecodeUTF8(p.string_param().data(),
                                         static_cast<Py_ssize_t>(p.string_param().size()),
                                         "surrogateescape"));
        break;
      case worker::v1::Parameter::VALUE_NOT_SET:
        continue;
    }
    if (!value || PyDict_SetItemString(params.get(), p.name().c_str(), value.get()) < 0)
      return nullptr;
  }
  return params.release();
}

}  // namespace modelgate::worker_host::py
