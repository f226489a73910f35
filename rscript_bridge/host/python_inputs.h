// What Model.predict receives: the inputs (a dict of arrays, or a pandas
// DataFrame in data-frame mode) and the request's parameters. GIL held;
// nullptr with a Python exception set on failure.
#pragma once

#include "python_common.h"
#include "worker.pb.h"

namespace modelgate::worker_host::py {

// A new dict name -> array (python_tensors.h DecodeInput, consuming the
// tensors' bytes), or with `dataframe` a DataFrame of 1-D columns of equal
// length; `levels` (dict name -> categories) makes those columns categorical.
PyObject* BuildInputs(worker::v1::Infer* infer, bool dataframe, PyObject* levels);

// A new dict of the parameters that carry a value: bool, int, float, str.
PyObject* BuildParameters(const worker::v1::Infer& infer);

}  // namespace modelgate::worker_host::py
