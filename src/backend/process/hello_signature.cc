#include "backend/process/hello_signature.h"

#include <algorithm>
#include <set>

#include "common/tensor_validation.h"
#include "common/utf8.h"

namespace modelgate {

namespace {

// How much of a worker-sent string an error quotes.
constexpr size_t kQuotedBytes = 64;

bool IsText(const std::string& s) {
  return IsValidUtf8(s) && std::none_of(s.begin(), s.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u < 0x20 || u == 0x7f;
         });
}

Status Bad(const std::string& what) {
  return Internal("the worker's Hello declares an invalid signature: " + what);
}

// One declared tensor, checked; `what` is "input 3" or "output 0".
StatusOr<TensorSpec> DecodeSpec(const worker::v1::TensorSpec& p, const std::string& what,
                                bool input) {
  TensorSpec t;
  if (p.name().empty()) return Bad(what + " has no name");
  if (p.name().size() > kMaxSignatureNameBytes || !IsText(p.name())) {
    return Bad(what + " name '" + PrintableCut(p.name(), kQuotedBytes) +
               "' is not a name of at most " + std::to_string(kMaxSignatureNameBytes) +
               " bytes of printable UTF-8");
  }
  t.name = p.name();
  const std::string at = what + " '" + t.name + "'";
  auto type = ParseDataType(p.datatype());
  if (!type) {
    return Bad(at + " has datatype '" + PrintableCut(p.datatype(), kQuotedBytes) +
               "', not a V2 datatype");
  }
  t.datatype = *type;
  if (p.shape_size() == 0 || static_cast<size_t>(p.shape_size()) > kMaxTensorRank) {
    return Bad(at + " has " + std::to_string(p.shape_size()) + " dimensions (1 to " +
               std::to_string(kMaxTensorRank) + ")");
  }
  for (int64_t d : p.shape()) {
    if (d < -1) return Bad(at + " has dimension " + std::to_string(d) + " (>= -1)");
    t.shape.push_back(d);
  }
  if (p.levels_size() == 0) return t;
  if (!input || t.datatype != DataType::kBytes) {
    return Bad(at + " has levels, which only BYTES inputs may have");
  }
  if (static_cast<size_t>(p.levels_size()) > kMaxSignatureLevels) {
    return Bad(at + " has " + std::to_string(p.levels_size()) + " levels (at most " +
               std::to_string(kMaxSignatureLevels) + ")");
  }
  std::set<std::string_view> seen;
  for (const auto& level : p.levels()) {
    if (level.size() > kMaxSignatureLevelBytes || !IsValidUtf8(level)) {
      return Bad(at + " has level '" + PrintableCut(level, kQuotedBytes) +
                 "', not UTF-8 text of at most " + std::to_string(kMaxSignatureLevelBytes) +
                 " bytes");
    }
    if (!seen.insert(level).second) {
      return Bad(at + " has level '" + PrintableCut(level, kQuotedBytes) + "' twice");
    }
  }
  t.levels.assign(p.levels().begin(), p.levels().end());
  return t;
}

StatusOr<std::vector<TensorSpec>> DecodeSpecs(
    const google::protobuf::RepeatedPtrField<worker::v1::TensorSpec>& specs, bool input) {
  const std::string kind = input ? "input" : "output";
  if (static_cast<size_t>(specs.size()) > kMaxSignatureTensors) {
    return Bad(std::to_string(specs.size()) + " " + kind + "s (at most " +
               std::to_string(kMaxSignatureTensors) + ")");
  }
  std::vector<TensorSpec> out;
  std::set<std::string> names;
  for (int i = 0; i < specs.size(); ++i) {
    auto t = DecodeSpec(specs[i], kind + " " + std::to_string(i), input);
    if (!t.ok()) return t.status();
    if (!names.insert(t->name).second) return Bad(kind + " '" + t->name + "' is declared twice");
    out.push_back(std::move(t).value());
  }
  return out;
}

std::string Describe(const TensorSpec& t) {
  return std::string(DataTypeName(t.datatype)) + " " + ShapeString(t.shape);
}

std::string NamesOf(const std::vector<TensorSpec>& specs) {
  std::string s;
  for (const auto& t : specs) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

// Both declare `kind`s: they must agree. The result is config's entries with
// the code's levels.
StatusOr<std::vector<TensorSpec>> Agree(const std::vector<TensorSpec>& config,
                                        const std::string& config_source,
                                        const std::vector<TensorSpec>& code,
                                        const std::string& code_source, const std::string& kind) {
  std::vector<TensorSpec> out = config;
  for (TensorSpec& c : out) {
    auto it = std::find_if(code.begin(), code.end(),
                           [&](const TensorSpec& t) { return t.name == c.name; });
    if (it == code.end()) {
      return InvalidArgument(kind + " '" + c.name + "' is declared in " + config_source + " (" +
                             Describe(c) + ") but not in " + code_source + ", which declares " +
                             NamesOf(code));
    }
    if (it->datatype != c.datatype || it->shape != c.shape) {
      return InvalidArgument(kind + " '" + c.name + "': " + config_source + " declares " +
                             Describe(c) + " but " + code_source + " declares " + Describe(*it));
    }
    c.levels = it->levels;
  }
  for (const TensorSpec& t : code) {
    if (std::none_of(config.begin(), config.end(),
                     [&](const TensorSpec& c) { return c.name == t.name; })) {
      return InvalidArgument(kind + " '" + t.name + "' is declared in " + code_source + " (" +
                             Describe(t) + ") but not in " + config_source + ", which declares " +
                             NamesOf(config));
    }
  }
  return out;
}

}  // namespace

StatusOr<ModelSignature> DecodeHelloSignature(const worker::v1::Hello& hello) {
  ModelSignature sig;
  auto inputs = DecodeSpecs(hello.inputs(), true);
  if (!inputs.ok()) return inputs.status();
  auto outputs = DecodeSpecs(hello.outputs(), false);
  if (!outputs.ok()) return outputs.status();
  if (inputs->empty() && !outputs->empty()) return Bad("outputs without inputs");
  sig.inputs = std::move(inputs).value();
  sig.outputs = std::move(outputs).value();
  const std::string& source = hello.signature_source();
  if (source.size() > kMaxSignatureSourceBytes || !IsText(source)) {
    return Bad("its source '" + PrintableCut(source, kQuotedBytes) +
               "' is not printable text of at most " + std::to_string(kMaxSignatureSourceBytes) +
               " bytes");
  }
  sig.source = source.empty() ? "the model's code" : source;
  sig.dataframe = hello.dataframe();
  return sig;
}

StatusOr<ModelSignature> MergeSignature(const ModelSignature& config, const ModelSignature& code,
                                        const std::string& code_file) {
  ModelSignature out;
  out.dataframe = config.dataframe || code.dataframe;
  if (code.inputs.empty()) {
    if (config.inputs.empty()) {
      return InvalidArgument(config.source + " declares no \"inputs\" and " + code_file +
                             " declares no signature: declare the inputs in " + config.source +
                             ", or in code (R: a zero-row data.frame `prototype`; Python: a "
                             "Model `signature` dict or a zero-row DataFrame `prototype`)");
    }
    out.inputs = config.inputs;
    out.outputs = config.outputs;
    out.source = config.source;
    return out;
  }
  out.source = config.inputs.empty() ? code.source : config.source;
  if (config.inputs.empty()) {
    out.inputs = code.inputs;
  } else {
    auto inputs = Agree(config.inputs, config.source, code.inputs, code.source, "input");
    if (!inputs.ok()) return inputs.status();
    out.inputs = std::move(inputs).value();
  }
  if (config.outputs.empty() || code.outputs.empty()) {
    out.outputs = config.outputs.empty() ? code.outputs : config.outputs;
  } else {
    auto outputs = Agree(config.outputs, config.source, code.outputs, code.source, "output");
    if (!outputs.ok()) return outputs.status();
    out.outputs = std::move(outputs).value();
  }
  if (out.dataframe) {
    for (const TensorSpec& t : out.inputs) {
      const auto& s = t.shape;
      if (s.size() != 1 && !(s.size() == 2 && s[1] == 1)) {
        return InvalidArgument("input '" + t.name + "': data-frame mode needs 1-D inputs, but " +
                               code.source + " declares " + ShapeString(s));
      }
    }
  }
  return out;
}

}  // namespace modelgate
