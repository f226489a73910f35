#include "python_tensors.h"
// numpy's C API table lives in this file; the other files do not use it.
#define PY_ARRAY_UNIQUE_SYMBOL modelgate_numpy_api
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace modelgate::worker_host::py {
namespace {

constexpr const char* kCapsuleName = "modelgate.tensor_bytes";

struct NumericType {
  const char* datatype;
  int type_num;
  char kind;  // numpy's dtype.kind
  int itemsize;
};

// The V2 numeric datatypes; numpy's native order is little-endian here.
constexpr NumericType kNumeric[] = {
    {"BOOL", NPY_BOOL, 'b', 1},     {"UINT8", NPY_UINT8, 'u', 1},   {"UINT16", NPY_UINT16, 'u', 2},
    {"UINT32", NPY_UINT32, 'u', 4}, {"UINT64", NPY_UINT64, 'u', 8}, {"INT8", NPY_INT8, 'i', 1},
    {"INT16", NPY_INT16, 'i', 2},   {"INT32", NPY_INT32, 'i', 4},   {"INT64", NPY_INT64, 'i', 8},
    {"FP16", NPY_HALF, 'f', 2},     {"FP32", NPY_FLOAT32, 'f', 4},  {"FP64", NPY_FLOAT64, 'f', 8},
};
static_assert(NPY_BYTE_ORDER == NPY_LITTLE_ENDIAN, "tensor bytes are little-endian");

const NumericType* ByDatatype(const std::string& datatype) {
  for (const auto& n : kNumeric) {
    if (datatype == n.datatype) return &n;
  }
  return nullptr;
}

// The V2 type of a numpy (kind, itemsize), as _DATATYPE_OF does.
const NumericType* ByKind(char kind, int itemsize) {
  for (const auto& n : kNumeric) {
    if (n.kind == kind && n.itemsize == itemsize) return &n;
  }
  return nullptr;
}

void FreeBytes(PyObject* capsule) {
  delete static_cast<std::string*>(PyCapsule_GetPointer(capsule, kCapsuleName));
}

// The element count of a shape; false when it overflows int64.
bool Elements(const std::vector<npy_intp>& dims, int64_t* count) {
  if (std::find(dims.begin(), dims.end(), 0) != dims.end()) {
    *count = 0;  // [2^40, 2^40, 0] holds nothing: no overflow
    return true;
  }
  int64_t n = 1;
  for (npy_intp d : dims) {
    if (__builtin_mul_overflow(n, static_cast<int64_t>(d), &n)) return false;
  }
  *count = n;
  return true;
}

// A shape numpy can hold: at most NPY_MAXDIMS dimensions, none negative, an
// element count that fits int64. The daemon validates shapes before a
// request reaches a worker; this keeps the host's own contract (an
// InvalidInput naming the input) for any sender.
bool ShapeFitsNumpy(const worker::v1::Tensor& t, const std::vector<npy_intp>& dims) {
  std::string problem;
  int64_t count = 0;
  if (dims.size() > static_cast<size_t>(NPY_MAXDIMS)) {
    problem = "has " + std::to_string(dims.size()) + " dimensions; numpy holds at most " +
              std::to_string(NPY_MAXDIMS);
  } else if (std::any_of(dims.begin(), dims.end(), [](npy_intp d) { return d < 0; })) {
    problem = "has a negative dimension";
  } else if (!Elements(dims, &count)) {
    problem = "has more elements than an int64 can count";
  } else {
    return true;
  }
  const std::string shape = dims.size() > static_cast<size_t>(NPY_MAXDIMS)
                                ? "of rank " + std::to_string(dims.size())
                                : ShapeText(t.shape().data(), t.shape_size());
  const std::string msg = "input '" + t.name() + "': shape " + shape + " " + problem;
  PyErr_SetString(InvalidInputType(), msg.c_str());
  return false;
}

PyObject* RaiseShapeMismatch(const worker::v1::Tensor& t, int64_t expected, int64_t got) {
  const std::string msg = "input '" + t.name() + "': shape " +
                          ShapeText(t.shape().data(), t.shape_size()) + " needs " +
                          std::to_string(expected) + " elements, got " + std::to_string(got);
  PyErr_SetString(InvalidInputType(), msg.c_str());
  return nullptr;
}

// BYTES element: str when valid UTF-8, else bytes.
PyObject* TextOrBytes(const std::string& s) {
  PyObject* text = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "strict");
  if (text != nullptr || !PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return text;
  PyErr_Clear();
  return PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

PyObject* DecodeBytes(worker::v1::Tensor* t, std::vector<npy_intp>& dims) {
  int64_t expected = 0;
  const int64_t got = t->strings_size();
  if (!Elements(dims, &expected) || expected != got) return RaiseShapeMismatch(*t, expected, got);
  Ref arr(PyArray_SimpleNew(static_cast<int>(dims.size()), dims.data(), NPY_OBJECT));
  if (!arr) return nullptr;
  auto** slots = static_cast<PyObject**>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(arr.get())));
  for (int64_t i = 0; i < got; ++i) {
    PyObject* element = TextOrBytes(t->strings(static_cast<int>(i)));
    if (element == nullptr) return nullptr;
    Py_XSETREF(slots[i], element);
  }
  return arr.release();
}

PyObject* ObjectArray(PyObject* value) {
  return PyArray_FromAny(value, PyArray_DescrFromType(NPY_OBJECT), 0, 0,
                         NPY_ARRAY_ENSUREARRAY | NPY_ARRAY_ENSURECOPY, nullptr);
}

PyObject* CannotCarry(const std::string& name, Py_ssize_t i, PyObject* v) {
  const std::string what = v == Py_None ? "None" : "an object of type " + TypeName(v);
  const std::string msg = "output '" + name + "': element " + std::to_string(i) + " is " + what +
                          ", which BYTES cannot carry (return str or bytes; use NaN in a float "
                          "array for a missing number)";
  PyErr_SetString(PyExc_TypeError, msg.c_str());
  return nullptr;
}

bool EncodeBytes(const std::string& name, PyArrayObject* arr, worker::v1::Tensor* out) {
  const bool is_object = PyArray_DESCR(arr)->kind == 'O';
  Ref flat(PyArray_Ravel(arr, NPY_CORDER));
  if (!flat) return false;
  if (!is_object) {
    flat = Ref(PyArray_CastToType(reinterpret_cast<PyArrayObject*>(flat.get()),
                                  PyArray_DescrFromType(NPY_OBJECT), 0));
    if (!flat) return false;
  }
  auto* flat_arr = reinterpret_cast<PyArrayObject*>(flat.get());
  const npy_intp n = PyArray_SIZE(flat_arr);
  auto** items = static_cast<PyObject**>(PyArray_DATA(flat_arr));
  // None first (the usual missing value), then anything else unencodable.
  for (npy_intp i = 0; i < n; ++i) {
    if (items[i] == nullptr || items[i] == Py_None) {
      CannotCarry(name, i, Py_None);
      return false;
    }
  }
  out->mutable_strings()->Reserve(static_cast<int>(n));
  for (npy_intp i = 0; i < n; ++i) {
    PyObject* v = items[i];
    if (PyBytes_Check(v)) {
      out->add_strings(PyBytes_AS_STRING(v), static_cast<size_t>(PyBytes_GET_SIZE(v)));
    } else if (PyUnicode_Check(v)) {
      Py_ssize_t size = 0;
      const char* utf8 = PyUnicode_AsUTF8AndSize(v, &size);
      if (utf8 == nullptr) return false;
      out->add_strings(utf8, static_cast<size_t>(size));
    } else {
      CannotCarry(name, i, v);
      return false;
    }
  }
  return true;
}

}  // namespace

bool InitNumpy() { return _import_array() >= 0; }

std::string NumpyVersion() {
  Ref numpy(PyImport_ImportModule("numpy"));
  Ref version(numpy ? PyObject_GetAttrString(numpy.get(), "__version__") : nullptr);
  if (!version) {
    PyErr_Clear();
    return "unknown";
  }
  return Str(version.get());
}

std::string ShapeText(const int64_t* dims, int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

PyObject* DecodeInput(worker::v1::Tensor* t) {
  std::vector<npy_intp> dims(t->shape().begin(), t->shape().end());
  if (!ShapeFitsNumpy(*t, dims)) return nullptr;
  if (t->datatype() == "BYTES") return DecodeBytes(t, dims);
  const NumericType* type = ByDatatype(t->datatype());
  if (type == nullptr) {
    const std::string msg = "input '" + t->name() + "': datatype " + t->datatype() +
                            " is not supported by the Python runtime";
    PyErr_SetString(InvalidInputType(), msg.c_str());
    return nullptr;
  }
  PyArray_Descr* descr = PyArray_DescrFromType(type->type_num);
  const size_t itemsize = static_cast<size_t>(descr->elsize);
  if (t->raw().size() % itemsize != 0) {
    Py_DECREF(descr);
    const std::string msg = "input '" + t->name() + "': " + std::to_string(t->raw().size()) +
                            " bytes of " + t->datatype() + " is not a whole number of " +
                            std::to_string(itemsize) + "-byte elements";
    PyErr_SetString(InvalidInputType(), msg.c_str());
    return nullptr;
  }
  int64_t expected = 0;
  const auto got = static_cast<int64_t>(t->raw().size() / itemsize);
  if (!Elements(dims, &expected) || expected != got) {
    Py_DECREF(descr);
    return RaiseShapeMismatch(*t, expected, got);
  }
  // The bytes move into a capsule owned by the array: no copy, and they
  // live as long as the model holds the array.
  auto owned = std::make_unique<std::string>(std::move(*t->mutable_raw()));
  char* data = owned->data();
  Ref capsule(PyCapsule_New(owned.get(), kCapsuleName, &FreeBytes));
  if (!capsule) {
    Py_DECREF(descr);
    return nullptr;
  }
  owned.release();
  // Read-only, as numpy.frombuffer over the received bytes was.
  Ref arr(PyArray_NewFromDescr(&PyArray_Type, descr, static_cast<int>(dims.size()), dims.data(),
                               nullptr, data, NPY_ARRAY_C_CONTIGUOUS, nullptr));
  if (!arr) return nullptr;
  auto* a = reinterpret_cast<PyArrayObject*>(arr.get());
  if (PyArray_SetBaseObject(a, capsule.release()) < 0) return nullptr;
  PyArray_UpdateFlags(a, NPY_ARRAY_ALIGNED | NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS);
  return arr.release();
}

Ref DataFrameToNumpy(const std::string& what, PyObject* frame);

// A pandas Series (or column, or DataFrame) as a numpy array. A nullable
// extension dtype (Int64, Float64, boolean: its dtype has `numpy_dtype`)
// converts to that numpy dtype, not to objects: a missing float becomes NaN,
// and a missing integer or bool, which the datatype cannot carry, is an
// error naming `what` (the output, and the column) and the element.
Ref PandasToNumpy(const std::string& what, PyObject* value) {
  // A DataFrame as the runtime knows one (python_runtime.cc's OutputItems),
  // and with per-column dtypes; a frame-like object without them keeps
  // to_numpy().
  if (PyObject_HasAttrString(value, "columns") && PyObject_HasAttrString(value, "items") &&
      PyObject_HasAttrString(value, "dtypes")) {
    return DataFrameToNumpy(what, value);
  }
  Ref dtype(PyObject_GetAttrString(value, "dtype"));
  Ref numpy_dtype(dtype ? PyObject_GetAttrString(dtype.get(), "numpy_dtype") : nullptr);
  if (!numpy_dtype) {  // a plain numpy-backed Series, or anything else with to_numpy()
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return Ref(nullptr);
    PyErr_Clear();
    return Ref(PyObject_CallMethod(value, "to_numpy", nullptr));
  }
  Ref kind(PyObject_GetAttrString(numpy_dtype.get(), "kind"));
  if (!kind) return Ref(nullptr);
  Ref kwargs(PyDict_New());
  if (!kwargs || PyDict_SetItemString(kwargs.get(), "dtype", numpy_dtype.get()) < 0)
    return Ref(nullptr);
  const std::string k = Str(kind.get());
  if (k == "f" || k == "c") {
    Ref nan(PyFloat_FromDouble(std::numeric_limits<double>::quiet_NaN()));
    if (!nan || PyDict_SetItemString(kwargs.get(), "na_value", nan.get()) < 0) return Ref(nullptr);
  } else {
    // isna() is a Series on a Series, a numpy array on a pandas array.
    Ref na(PyObject_CallMethod(value, "isna", nullptr));
    Ref mask(na ? PyArray_FromAny(na.get(), nullptr, 0, 0, NPY_ARRAY_ENSUREARRAY, nullptr)
                : nullptr);
    Ref any(mask ? PyObject_CallMethod(mask.get(), "any", nullptr) : nullptr);
    const int missing = any ? PyObject_IsTrue(any.get()) : -1;
    if (missing < 0) return Ref(nullptr);
    if (missing == 1) {
      Ref first(PyObject_CallMethod(mask.get(), "argmax", nullptr));
      const long at = first ? PyLong_AsLong(first.get()) : -1;
      if (at == -1 && PyErr_Occurred()) return Ref(nullptr);
      const std::string msg = what + ": element " + std::to_string(at) +
                              " is missing (pd.NA in a pandas " + Str(dtype.get()) +
                              " column), which " + Str(numpy_dtype.get()) +
                              " cannot carry; fill it, or return floats with NaN";
      PyErr_SetString(PyExc_TypeError, msg.c_str());
      return Ref(nullptr);
    }
  }
  Ref to_numpy(PyObject_GetAttrString(value, "to_numpy"));
  Ref no_args(PyTuple_New(0));
  if (!to_numpy || !no_args) return Ref(nullptr);
  return Ref(PyObject_Call(to_numpy.get(), no_args.get(), kwargs.get()));
}

// A DataFrame as a [rows, columns] array. Only a frame with a nullable
// extension column goes column by column (each as PandasToNumpy, stacked
// with numpy's usual promotion); any other keeps DataFrame.to_numpy().
Ref DataFrameToNumpy(const std::string& what, PyObject* frame) {
  // The column dtypes in one call: no Series is built for a plain frame.
  Ref dtypes(PyObject_GetAttrString(frame, "dtypes"));
  Ref dtype_list(dtypes ? PySequence_List(dtypes.get()) : nullptr);
  if (!dtype_list) return Ref(nullptr);
  bool nullable = false;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dtype_list.get()) && !nullable; ++i) {
    nullable = PyObject_HasAttrString(PyList_GET_ITEM(dtype_list.get(), i), "numpy_dtype");
  }
  if (!nullable) return Ref(PyObject_CallMethod(frame, "to_numpy", nullptr));
  Ref items(PyObject_CallMethod(frame, "items", nullptr));
  Ref columns(items ? PySequence_List(items.get()) : nullptr);
  if (!columns) return Ref(nullptr);
  const Py_ssize_t n = PyList_GET_SIZE(columns.get());
  Ref arrays(PyList_New(n));
  if (!arrays) return Ref(nullptr);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PyList_GET_ITEM(columns.get(), i);  // (label, Series)
    const std::string column_what = what + " column '" + Str(PyTuple_GetItem(item, 0)) + "'";
    Ref array = PandasToNumpy(column_what, PyTuple_GetItem(item, 1));
    if (!array) return Ref(nullptr);
    PyList_SET_ITEM(arrays.get(), i, array.release());  // steals the reference
  }
  Ref numpy(PyImport_ImportModule("numpy"));
  Ref stack(numpy ? PyObject_GetAttrString(numpy.get(), "stack") : nullptr);
  Ref args(stack ? PyTuple_Pack(1, arrays.get()) : nullptr);
  Ref kwargs(args ? Py_BuildValue("{s:i}", "axis", 1) : nullptr);
  if (!kwargs) return Ref(nullptr);
  Ref stacked(PyObject_Call(stack.get(), args.get(), kwargs.get()));
  if (!stacked && PyErr_ExceptionMatches(PyExc_Exception)) {
    // numpy's own words (columns it cannot combine), with the output named.
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    const std::string msg = what + ": its columns cannot form one array: " +
                            (value ? Str(value) : std::string("(no message)"));
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    PyErr_SetString(PyExc_TypeError, msg.c_str());
  }
  return stacked;
}

bool EncodeOutput(const std::string& name, PyObject* value, worker::v1::Tensor* out) {
  Ref v = Ref::Borrow(value);
  if (PyObject_HasAttrString(value, "to_numpy")) {  // pandas Series / DataFrame column
    v = PandasToNumpy("output '" + name + "'", value);
    if (!v) return false;
  }
  Ref arr(PyArray_FromAny(v.get(), nullptr, 0, 0, NPY_ARRAY_ENSUREARRAY, nullptr));
  if (!arr && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
    // str beside non-ASCII bytes: numpy cannot unify them.
    PyErr_Clear();
    arr = Ref(ObjectArray(v.get()));
  }
  if (!arr) return false;
  char kind = PyArray_DESCR(reinterpret_cast<PyArrayObject*>(arr.get()))->kind;
  if ((kind == 'U' || kind == 'S') && !PyArray_Check(v.get())) {
    // numpy's fixed-width strings drop trailing NULs: keep the objects.
    arr = Ref(ObjectArray(v.get()));
    if (!arr) return false;
    kind = 'O';
  }
  auto* a = reinterpret_cast<PyArrayObject*>(arr.get());
  if (PyArray_NDIM(a) == 0) {
    npy_intp one = 1;
    PyArray_Dims dims{&one, 1};
    arr = Ref(PyArray_Newshape(a, &dims, NPY_CORDER));
    if (!arr) return false;
    a = reinterpret_cast<PyArrayObject*>(arr.get());
  }
  out->set_name(name);
  for (int i = 0; i < PyArray_NDIM(a); ++i) out->add_shape(PyArray_DIM(a, i));
  if (kind == 'U' || kind == 'S' || kind == 'O') {
    out->set_datatype("BYTES");
    return EncodeBytes(name, a, out);
  }
  const NumericType* type = ByKind(kind, static_cast<int>(PyArray_ITEMSIZE(a)));
  if (type == nullptr) {
    const std::string msg = "output '" + name + "': numpy dtype " +
                            Str(reinterpret_cast<PyObject*>(PyArray_DESCR(a))) +
                            " has no V2 datatype";
    PyErr_SetString(PyExc_TypeError, msg.c_str());
    return false;
  }
  out->set_datatype(type->datatype);
  // Native little-endian, C order; a view when the array already is.
  Ref packed(PyArray_FromArray(a, PyArray_DescrFromType(type->type_num),
                               NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED));
  if (!packed) return false;
  auto* p = reinterpret_cast<PyArrayObject*>(packed.get());
  out->set_raw(PyArray_BYTES(p), static_cast<size_t>(PyArray_NBYTES(p)));
  return true;
}

}  // namespace modelgate::worker_host::py
