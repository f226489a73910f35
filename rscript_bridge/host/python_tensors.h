// Tensors to numpy arrays and back through the numpy C API, with the script
// runtime's rules (rscript_bridge/python/modelgate_runtime.py) and messages.
// GIL held; every failure leaves a Python exception set.
#pragma once

#include "python_common.h"
#include "worker.pb.h"

namespace modelgate::worker_host::py {

// import_array(); false with an exception set. Once, after Py_Initialize.
bool InitNumpy();

// numpy.__version__ (after InitNumpy).
std::string NumpyVersion();

// A new array for one input: BYTES as an object array of str (valid UTF-8)
// or bytes; numeric types wrap t's raw bytes without a copy (moved into a
// capsule that is the array's base, so a model may keep the array). A bad
// datatype or a shape that does not fit the data raises InvalidInput.
PyObject* DecodeInput(worker::v1::Tensor* t);

// Fills *out from one returned value (array, list, scalar, pandas column):
// numeric dtypes as raw little-endian bytes, str/bytes/object as BYTES.
// false with TypeError when the value has no faithful V2 form.
bool EncodeOutput(const std::string& name, PyObject* value, worker::v1::Tensor* out);

// "[2, 3]", as Python prints list(shape).
std::string ShapeText(const int64_t* dims, int n);

}  // namespace modelgate::worker_host::py
