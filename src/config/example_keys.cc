#include "config/example_keys.h"

#include <algorithm>
#include <set>

#include "config/config_bounds.h"
#include "config/json_tensor.h"
#include "config/lifecycle_keys.h"

namespace modelgate {

namespace {

using namespace config_limits;
using nlohmann::json;

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// What the leaves of expected data hold, to pick the datatype.
struct Leaves {
  bool booleans = false, integers = false, floats = false, missing = false, strings = false;
  bool special_strings_only = true;  // every string is "NaN", "Infinity" or "-Infinity"
  bool integers_fit = true;          // every integer fits INT64
};

bool Scan(Checker& c, const json& v, const std::string& path, size_t depth, Leaves& l) {
  if (v.is_array()) {
    if (depth >= kMaxJsonDepth) {
      return c.Fail(path, "nests deeper than " + std::to_string(kMaxJsonDepth) + " arrays");
    }
    for (const json& item : v) {
      if (!Scan(c, item, path, depth + 1, l)) return false;
    }
    return true;
  }
  if (v.is_boolean()) {
    l.booleans = true;
  } else if (v.is_number_unsigned()) {
    l.integers = true;
    l.integers_fit = l.integers_fit && v.get<uint64_t>() <= uint64_t{INT64_MAX};
  } else if (v.is_number_integer()) {
    l.integers = true;
  } else if (v.is_number_float()) {
    l.floats = true;
  } else if (v.is_null()) {
    l.missing = true;
  } else if (v.is_string()) {
    l.strings = true;
    const auto& s = v.get_ref<const std::string&>();
    l.special_strings_only =
        l.special_strings_only && (s == "NaN" || s == "Infinity" || s == "-Infinity");
  } else {
    return c.Fail(path,
                  "holds " + DescribeJson(v) + "; expected data are numbers, strings or booleans");
  }
  return true;
}

constexpr Key<Tensor> kOutputKeys[] = {
    {.name = "name",
     .kind = KeyKind::kString,
     .required = true,
     .set_string = [](Tensor& t, std::string s) { t.name = std::move(s); },
     .description = "the output, as the model's answer names it"},
    {.name = "data",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "array (flat or nested) of numbers, strings or booleans",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 Tensor& t) { return ParseExpectedData(c, j, path, t); },
     .description = "the expected values, row-major; nested data also fixes the shape. Numbers "
                    "may include `null` (NA), `\"NaN\"`, `\"Infinity\"`, `\"-Infinity\"`"},
};

constexpr Key<ExampleRequest> kExampleKeys[] = {
    {.name = "inputs",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "array of V2 JSON inputs `{name, datatype, shape, data}`",
     .parse = [](Checker& c, const json& j, const std::string& path,
                 ExampleRequest& r) { return ParseRequestInputs(c, j, path, r.inputs); },
     .description = "the request's inputs, as in `warmup`"},
    {.name = "outputs",
     .kind = KeyKind::kCustom,
     .required = true,
     .type_doc = "non-empty array of `{name, data}`",
     .parse =
         [](Checker& c, const json& j, const std::string& path, ExampleRequest& r) {
           if (!j.is_array() || j.empty()) {
             return c.Fail(path, "must be a non-empty array of {name, data}");
           }
           std::set<std::string> names;
           for (size_t i = 0; i < j.size(); ++i) {
             Tensor t;
             if (!ParseObject<Tensor>(c, j[i], Index(path, i), ExampleOutputKeys(), t,
                                      "must be an object {name, data}")) {
               return false;
             }
             if (!names.insert(t.name).second) {
               return c.Fail(Index(path, i) + ".name", "output '" + t.name + "' is given twice");
             }
             r.outputs.push_back(std::move(t));
           }
           return true;
         },
     .description = "the outputs the answer must hold (others it holds are not compared)"},
    {.name = "tolerance",
     .kind = KeyKind::kNumber,
     .min_number = 0,
     .max_number = kMaxExampleTolerance,
     .set_number = [](ExampleRequest& r, double v) { r.tolerance = v; },
     .show = [](const ExampleRequest& r) { return FormatConfigNumber(r.tolerance); },
     .description = "float outputs pass when `abs(got - expected) <= tolerance * (1 + "
                    "abs(expected))` (absolute and relative); integers, strings and booleans "
                    "must be equal"},
};

static_assert(AllWellFormed(kOutputKeys));
static_assert(AllWellFormed(kExampleKeys));

}  // namespace

std::span<const Key<ExampleRequest>> ExampleRequestKeys() { return kExampleKeys; }
std::span<const Key<Tensor>> ExampleOutputKeys() { return kOutputKeys; }

bool ParseExpectedData(Checker& c, const json& data, const std::string& path, Tensor& t) {
  if (!data.is_array()) {
    return c.Fail(path, "must be an array (flat or nested) of numbers, strings or booleans");
  }
  Leaves l;
  if (!Scan(c, data, path, 0, l)) return false;
  const bool numbers = l.integers || l.floats || l.missing;
  const int kinds = int{l.booleans} + int{numbers} + int{l.strings && !l.special_strings_only};
  if (kinds > 1 || (l.strings && l.special_strings_only && l.booleans)) {
    return c.Fail(path, "mixes numbers, strings and booleans; expected data are all of one kind");
  }
  if (l.booleans) {
    t.datatype = DataType::kBool;
  } else if (l.strings && !l.special_strings_only) {
    t.datatype = DataType::kBytes;
  } else if (l.integers && !l.floats && !l.missing && !l.strings && l.integers_fit) {
    t.datatype = DataType::kInt64;
  } else {
    t.datatype = DataType::kFp64;  // also empty data
  }
  auto shape = JsonShape(data);
  if (!shape) return c.Fail(path, "is a ragged array (rows of different lengths)");
  t.shape = std::move(*shape);
  t.raw.clear();
  t.strings.clear();
  if (Status s = AppendJsonData(data, t); !s.ok()) return c.Fail(path, s.message());
  return true;
}

bool ParseExamples(Checker& c, const json& j, const std::string& path,
                   std::vector<ExampleRequest>* out) {
  if (!j.is_array()) {
    return c.Fail(path, "must be an array of {\"inputs\": [...], \"outputs\": [...]}");
  }
  if (j.size() > kMaxExamples) {
    return c.Fail(path, "has " + std::to_string(j.size()) + " examples; at most " +
                            std::to_string(kMaxExamples) + " are allowed");
  }
  std::vector<ExampleRequest> examples;
  for (size_t i = 0; i < j.size(); ++i) {
    ExampleRequest r;
    if (!ParseObject<ExampleRequest>(c, j[i], Index(path, i), ExampleRequestKeys(), r,
                                     "must be an object {\"inputs\": [...], \"outputs\": [...]}")) {
      return false;
    }
    examples.push_back(std::move(r));
  }
  *out = std::move(examples);
  return true;
}

bool CheckExamples(Checker& c, const ModelConfig& m) {
  for (size_t i = 0; i < m.examples.size(); ++i) {
    const std::string at = Index("examples", i);
    // Inputs declared only in the model's code are known once its worker
    // says Hello: `modelgate check` validates the examples against those.
    if (!m.inputs.empty() && !CheckRequestInputs(c, m, at + ".inputs", m.examples[i].inputs)) {
      return false;
    }
    if (m.outputs.empty()) continue;
    const auto& outputs = m.examples[i].outputs;
    for (size_t k = 0; k < outputs.size(); ++k) {
      const bool declared =
          std::any_of(m.outputs.begin(), m.outputs.end(),
                      [&](const TensorSpec& s) { return s.name == outputs[k].name; });
      if (!declared) {
        std::string names;
        for (const auto& s : m.outputs) names += (names.empty() ? "" : ", ") + s.name;
        return c.Fail(
            Index(at + ".outputs", k) + ".name",
            "'" + outputs[k].name + "' is not a declared output (outputs: " + names + ")");
      }
    }
  }
  return true;
}

}  // namespace modelgate
