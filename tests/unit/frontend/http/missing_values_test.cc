// The JSON missing-value rule, both directions: NA as null, NaN as "NaN",
// infinities as "Infinity" / "-Infinity", for FP64 and FP32; FP16 NaN and
// infinities (no NA) as strings too.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/half_float.h"
#include "common/missing_value.h"
#include "frontend/http/rest_codec.h"

namespace modelgate {
namespace {

const SteadyTime kNow = SteadyTime{} + std::chrono::hours(1);

template <typename T>
Tensor Of(DataType type, std::vector<T> values) {
  Tensor t;
  t.name = "y";
  t.datatype = type;
  t.shape = {static_cast<int64_t>(values.size())};
  t.raw.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  return t;
}

nlohmann::json Encode(Tensor t) {
  InferResponse resp;
  resp.model = "m";
  resp.outputs.push_back(std::move(t));
  auto body = EncodeV2InferResponse(resp);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  return nlohmann::json::parse(body.ok() ? *body : "{}")["outputs"][0]["data"];
}

const nlohmann::json kRule =
    nlohmann::json::parse(R"([null, "NaN", "Infinity", "-Infinity", 1.5])");

TEST(MissingValuesTest, Fp64NaNanAndInfinitiesAreDistinctInJson) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Encode(Of<double>(DataType::kFp64, {NaFp64(), std::nan(""), inf, -inf, 1.5})), kRule);
  // A NaN with another payload (or sign) is NaN, not NA.
  EXPECT_EQ(Encode(Of<double>(DataType::kFp64,
                              {-std::nan(""), std::bit_cast<double>(0x7FF8000000000001ull)})),
            nlohmann::json::parse(R"(["NaN", "NaN"])"));
}

TEST(MissingValuesTest, Fp32AndFp16FollowTheSameRule) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(Encode(Of<float>(DataType::kFp32, {NaFp32(), std::nanf(""), inf, -inf, 1.5f})), kRule);
  const Fp16 h[3] = {FromFloat<Fp16>(std::nanf("")), FromFloat<Fp16>(inf), FromFloat<Fp16>(-inf)};
  EXPECT_EQ(Encode(Of<Fp16>(DataType::kFp16, {h[0], h[1], h[2]})),
            nlohmann::json::parse(R"(["NaN", "Infinity", "-Infinity"])"));
}

TEST(MissingValuesTest, JsonInputsTakeTheSameRuleBitExactly) {
  for (const char* type : {"FP64", "FP32"}) {
    auto r = ParseV2InferRequest(std::string(R"({"inputs": [{"name": "x", "datatype": ")") + type +
                                     R"(", "shape": [5], "data": [null, "NaN", "Infinity",
                                     "-Infinity", 1.5]}]})",
                                 kNow);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const Tensor& t = r->inputs[0];
    if (t.datatype == DataType::kFp64) {
      double v[5];
      ASSERT_EQ(t.raw.size(), sizeof v);
      std::memcpy(v, t.raw.data(), sizeof v);
      EXPECT_EQ(std::bit_cast<uint64_t>(v[0]), kFp64NaBits);
      EXPECT_TRUE(std::isnan(v[1]) && !IsNa(v[1]));
      EXPECT_EQ(v[2], std::numeric_limits<double>::infinity());
      EXPECT_EQ(v[3], -std::numeric_limits<double>::infinity());
      EXPECT_EQ(v[4], 1.5);
      // And back out the same way.
      Tensor out = t;
      EXPECT_EQ(Encode(out), kRule);
    } else {
      float v[5];
      ASSERT_EQ(t.raw.size(), sizeof v);
      std::memcpy(v, t.raw.data(), sizeof v);
      EXPECT_EQ(std::bit_cast<uint32_t>(v[0]), kFp32NaBits);
      EXPECT_TRUE(std::isnan(v[1]) && !IsNa(v[1]));
      EXPECT_EQ(v[2], std::numeric_limits<float>::infinity());
      EXPECT_EQ(v[3], -std::numeric_limits<float>::infinity());
      Tensor out = t;
      EXPECT_EQ(Encode(out), kRule);
    }
  }
}

TEST(MissingValuesTest, OtherStringsAndNullInIntegersAreRefusedNamingTheInput) {
  struct Case {
    const char* body;
    const char* fragment;
  } cases[] = {
      {R"({"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": ["nan"]}]})",
       R"(input 'x': FP64 data must be numbers, null (NA), "NaN", "Infinity" or "-Infinity", got "nan")"},
      {R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [true]}]})",
       "input 'x': FP32 data must be numbers"},
      {R"({"inputs": [{"name": "i", "datatype": "INT32", "shape": [1], "data": [null]}]})",
       "input 'i': INT32 data must be integers, got null"},
      {R"({"inputs": [{"name": "i", "datatype": "INT64", "shape": [1], "data": ["NaN"]}]})",
       "input 'i': INT64 data must be integers"},
  };
  for (const auto& c : cases) {
    auto r = ParseV2InferRequest(c.body, kNow);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace modelgate
