// Runs rscript_bridge/conformance/cases.json against both runtimes through
// the real process layer; both must give exactly the expected answers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/half_float.h"
#include "common/missing_value.h"
#include "common/utf8.h"
#include "support/worker_harness.h"

namespace modelgate::testing {
namespace {

using nlohmann::json;

template <typename T>
void Append(std::string& raw, T v) {
  raw.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// A BYTES element: a JSON string, or {"hex": "..."} for bytes that are not UTF-8.
std::string BytesOf(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  const std::string hex = v.at("hex");
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

json JsonOfBytes(const std::string& s) {
  if (IsValidUtf8(s)) return s;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : s) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 15]);
  }
  return {{"hex", hex}};
}

Parameters ParametersFromJson(const json& j) {
  Parameters p;
  for (const auto& [key, v] : j.items()) {
    if (v.is_boolean()) {
      p.emplace(key, v.get<bool>());
    } else if (v.is_number_integer()) {
      p.emplace(key, v.get<int64_t>());
    } else if (v.is_number_float()) {
      p.emplace(key, v.get<double>());
    } else {
      p.emplace(key, v.get<std::string>());
    }
  }
  return p;
}

Tensor TensorFromJson(const json& j) {
  Tensor t;
  t.name = j.at("name");
  t.datatype = *ParseDataType(j.at("datatype").get<std::string>());
  t.shape = j.at("shape").get<std::vector<int64_t>>();
  for (const auto& v : j.at("data")) {
    VisitDataType(t.datatype, [&]<class T>(std::type_identity<T>) {
      if constexpr (std::is_same_v<T, std::string>) {
        t.strings.push_back(BytesOf(v));
      } else if constexpr (std::is_same_v<T, bool>) {
        Append(t.raw, static_cast<uint8_t>(v.get<bool>()));
      } else if constexpr (kIsHalfFloat<T>) {
        Append(t.raw, FromFloat<T>(v.get<float>()));
      } else {
        Append(t.raw, v.get<T>());
      }
    });
  }
  return t;
}

json DataOf(const Tensor& t) {
  json out = json::array();
  const int64_t n = t.HeldElements();
  for (int64_t i = 0; i < n; ++i) {
    const char* p = t.raw.data() + i * ElementSize(t.datatype);
    VisitDataType(t.datatype, [&]<class T>(std::type_identity<T>) {
      if constexpr (std::is_same_v<T, std::string>) {
        out.push_back(JsonOfBytes(t.strings[i]));
      } else if constexpr (std::is_same_v<T, bool>) {
        out.push_back(*p != 0);
      } else {
        T v;
        std::memcpy(&v, p, sizeof v);
        if constexpr (kIsHalfFloat<T>) {
          out.push_back(ToFloat(v));
        } else if constexpr (std::is_floating_point_v<T>) {
          // Missing values by name, so a case can tell NA from NaN.
          if (IsNa(v)) {
            out.push_back("NA");
          } else if (std::isnan(v)) {
            out.push_back("NaN");
          } else if (std::isinf(v)) {
            out.push_back(v > 0 ? "Infinity" : "-Infinity");
          } else {
            out.push_back(v);
          }
        } else {
          out.push_back(v);
        }
      }
    });
  }
  return out;
}

class ConformanceTest : public ::testing::TestWithParam<Backend> {};

TEST_P(ConformanceTest, PassesEveryGoldenCase) {
  std::ifstream f(SourceDir() + "/rscript_bridge/conformance/cases.json");
  ASSERT_TRUE(f.good());
  const json cases = json::parse(f).at("cases");
  ASSERT_GE(cases.size(), 10u);
  const bool r = GetParam() == Backend::kR;
  WorkerHarness h;
  auto w = h.Start(GetParam(), SourceDir() + "/rscript_bridge/conformance/" + (r ? "r" : "python"));
  ASSERT_EQ(w->state(), WorkerState::kReady) << h.last_death.message();
  EXPECT_NE(w->runtime_description().find(r ? "r (R version" : "python (Python"), std::string::npos)
      << w->runtime_description();
  for (const auto& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    std::vector<Tensor> in;
    for (const auto& j : c.at("inputs")) in.push_back(TensorFromJson(j));
    auto out =
        h.Infer(*w, std::move(in), "test",
                c.contains("parameters") ? ParametersFromJson(c.at("parameters")) : Parameters{});
    if (c.contains("error")) {
      ASSERT_FALSE(out.ok());
      const auto& e = c.at("error");
      EXPECT_EQ(out.status().code(), e.at("invalid_input").get<bool>()
                                         ? StatusCode::kInvalidArgument
                                         : StatusCode::kInternal);
      if (e.contains("message")) {
        EXPECT_EQ(out.status().message(), e.at("message"));
      }
      if (e.contains("message_contains")) {
        EXPECT_NE(out.status().message().find(e.at("message_contains").get<std::string>()),
                  std::string::npos)
            << out.status().message();
      }
      continue;
    }
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    const auto& expected = c.at("outputs");
    ASSERT_EQ(out->size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const Tensor& got = out->at(i);
      EXPECT_EQ(got.name, expected[i].at("name"));
      EXPECT_EQ(DataTypeName(got.datatype), expected[i].at("datatype").get<std::string>());
      EXPECT_EQ(got.shape, expected[i].at("shape").get<std::vector<int64_t>>());
      const std::string data = expected[i].contains("data") ? "data" : r ? "data_r" : "data_python";
      EXPECT_EQ(DataOf(got), expected[i].at(data)) << got.name;
    }
  }
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, ConformanceTest,
                         ::testing::Values(Backend::kR, Backend::kPython), [](const auto& info) {
                           return info.param == Backend::kR ? "R" : "Python";
                         });

}  // namespace
}  // namespace modelgate::testing
