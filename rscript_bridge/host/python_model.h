// Load time of the embedded Python runtime: imports model.py, builds its
// Model, reads the signature it declares and inspects predict. This part
// runs once per worker and may use interpreted helpers (inspect, pandas
// dtypes); the per-request path never does. GIL held.
#pragma once

#include <string>

#include "python_common.h"
#include "worker.pb.h"

namespace modelgate::worker_host::py {

struct LoadedModel {
  Ref model;                      // the Model(model_dir) instance
  bool takes_parameters = false;  // predict(inputs, parameters)
  bool dataframe = false;         // declared by a DataFrame prototype
  Ref levels;                     // dict: category column -> list of its categories
};

// model_dir/model.py's Model, with its declared signature (a `signature`
// dict or a DataFrame `prototype`) filled into *hello. false with a Python
// exception set; the messages are the script runtime's.
bool LoadModel(const std::string& model_dir, LoadedModel* out, worker::v1::Hello* hello);

}  // namespace modelgate::worker_host::py
