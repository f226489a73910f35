// Conversions between worker.v1 tensors and R values (r_inputs.cc,
// r_outputs.cc), done in C++ so a request runs no interpreted protocol code.
// Rules and messages are those of rscript_bridge/R/modelgate_runtime.R (the
// integration suites compare them).
//
// Contract: call only from inside R_ToplevelExec (an allocation failure
// raises an R error); a problem with the data never raises one, it is
// returned as text. Returned SEXPs are unprotected.
#pragma once

#include <string>

#define R_NO_REMAP
#include <Rinternals.h>

#include "worker.pb.h"

namespace modelgate::worker_host {

// The inputs as predict_fn sees them: a named list of vectors (rank <= 1)
// and arrays (rank > 1, column-major), or with `dataframe` a data.frame
// whose columns named in `factor_levels` (a named list of character
// vectors) are factors. On bad input returns nullptr and sets *invalid to
// the message for the client (the request is answered invalid_input).
SEXP DecodeInputs(const worker::v1::Infer& infer, bool dataframe, SEXP factor_levels,
                  std::string* invalid);

// The request's parameters as a named list: logical, double (int64 too,
// like INT64 tensors) and character values.
SEXP DecodeParams(const worker::v1::Infer& infer);

// predict_fn's value (a named list or data.frame) as Result tensors. false:
// *error names the output and what R value it cannot carry.
bool EncodeOutputs(SEXP value, worker::v1::Result* result, std::string* error);

}  // namespace modelgate::worker_host
