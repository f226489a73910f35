// Signatures from code: what a worker's Hello says its model declares (an R
// zero-row data.frame `prototype`, a Python `signature` dict or zero-row
// DataFrame `prototype`), and its merge with what config.json declares.
//
// The worker is a trust boundary: DecodeHelloSignature checks every count,
// name, datatype, shape and level against the limits below before anything
// of it is used, and names the offending entry (cut and escaped). Pure
// functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "modelgate/model_config.h"
#include "modelgate/status.h"
#include "worker.pb.h"

namespace modelgate {

inline constexpr size_t kMaxSignatureTensors = 1024;  // inputs, and outputs, each
inline constexpr size_t kMaxSignatureNameBytes = 256;
inline constexpr size_t kMaxSignatureLevels = 4096;  // per input
inline constexpr size_t kMaxSignatureLevelBytes = 1024;
inline constexpr size_t kMaxSignatureSourceBytes = 256;

// The signature a Hello declares, validated. Inputs empty: the code declares
// none (then outputs are empty too). BYTES inputs may carry levels.
StatusOr<ModelSignature> DecodeHelloSignature(const worker::v1::Hello& hello);

// The signature a version serves, from config.json's (`config`, source: the
// config file) and the code's (`code`, from DecodeHelloSignature):
//  - code declares nothing: config's; config must declare inputs, else an
//    error naming both the config file and `code_file` (model.R / model.py);
//  - config declares no inputs (outputs): the code's inputs (outputs);
//  - both declare inputs (outputs): the same names with the same datatypes
//    and shapes, else an error naming the entry and both declarations; the
//    result is config's entries (its `optional` flags) with the code's levels.
// dataframe is either's; in data-frame mode every input must be 1-D.
StatusOr<ModelSignature> MergeSignature(const ModelSignature& config, const ModelSignature& code,
                                        const std::string& code_file);

}  // namespace modelgate
