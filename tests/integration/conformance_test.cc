// Runs rscript_bridge/conformance/cases.json against both runtimes through
// the real process layer; both must give exactly the expected answers.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/worker_harness.h"

namespace modelgate::testing {
namespace {

using nlohmann::json;

template <typename T>
void Append(std::string& raw, T v) {
  raw.append(reinterpret_cast<const char*>(&v), sizeof v);
}

Tensor TensorFromJson(const json& j) {
  Tensor t;
  t.name = j.at("name");
  t.datatype = *ParseDataType(j.at("datatype").get<std::string>());
  t.shape = j.at("shape").get<std::vector<int64_t>>();
  for (const auto& v : j.at("data")) {
    switch (t.datatype) {
      case DataType::kFp64:
        Append(t.raw, v.get<double>());
        break;
      case DataType::kFp32:
        Append(t.raw, v.get<float>());
        break;
      case DataType::kInt32:
        Append(t.raw, v.get<int32_t>());
        break;
      case DataType::kInt64:
        Append(t.raw, v.get<int64_t>());
        break;
      case DataType::kBool:
        Append(t.raw, static_cast<uint8_t>(v.get<bool>()));
        break;
      case DataType::kBytes:
        t.strings.push_back(v.get<std::string>());
        break;
      default:
        ADD_FAILURE() << "conformance case uses an unsupported datatype";
    }
  }
  return t;
}

json DataOf(const Tensor& t) {
  json out = json::array();
  const int64_t n = t.HeldElements();
  for (int64_t i = 0; i < n; ++i) {
    const char* p = t.raw.data() + i * ElementSize(t.datatype);
    switch (t.datatype) {
      case DataType::kFp64: {
        double v;
        std::memcpy(&v, p, 8);
        out.push_back(v);
        break;
      }
      case DataType::kInt32: {
        int32_t v;
        std::memcpy(&v, p, 4);
        out.push_back(v);
        break;
      }
      case DataType::kBool:
        out.push_back(*p != 0);
        break;
      case DataType::kBytes:
        out.push_back(t.strings[i]);
        break;
      default:
        out.push_back("unexpected datatype " + std::string(DataTypeName(t.datatype)));
    }
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
    auto out = h.Infer(*w, std::move(in));
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
      EXPECT_EQ(DataOf(got), expected[i].at("data")) << got.name;
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
