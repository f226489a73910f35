#include "modelgate/tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

namespace modelgate {
namespace {

TEST(TensorTest, ParsesEveryV2DatatypeName) {
  for (auto name : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32",
                    "INT64", "FP16", "FP32", "FP64", "BYTES", "BF16"}) {
    auto t = ParseDataType(name);
    ASSERT_TRUE(t.has_value()) << name;
    EXPECT_EQ(DataTypeName(*t), name);
  }
  EXPECT_FALSE(ParseDataType("FLOAT").has_value());
  EXPECT_FALSE(ParseDataType("fp64").has_value());
  EXPECT_EQ(ElementSize(DataType::kFp64), 8u);
  EXPECT_EQ(ElementSize(DataType::kBytes), 0u);
}

TEST(TensorTest, CountsElementsFromShapeAndPayload) {
  Tensor t;
  t.datatype = DataType::kInt32;
  t.shape = {2, 3};
  t.raw.resize(24);
  EXPECT_EQ(t.ElementCount(), 6);
  EXPECT_EQ(t.HeldElements(), 6);
  t.shape = {-1, 3};
  EXPECT_EQ(t.ElementCount(), -1);
  EXPECT_EQ(ShapeString({-1, 4}), "[-1,4]");
}

TEST(TensorTest, CastsFp64ToFp32AndInt64) {
  Tensor t;
  t.name = "x";
  t.datatype = DataType::kFp64;
  t.shape = {2};
  double d[2] = {1.5, -2.0};
  t.raw.assign(reinterpret_cast<char*>(d), sizeof d);
  ASSERT_TRUE(CastTensor(t, DataType::kFp32).ok());
  ASSERT_EQ(t.raw.size(), 8u);
  float f[2];
  std::memcpy(f, t.raw.data(), 8);
  EXPECT_FLOAT_EQ(f[0], 1.5f);
  EXPECT_FLOAT_EQ(f[1], -2.0f);
  ASSERT_TRUE(CastTensor(t, DataType::kInt64).ok());
  int64_t i[2];
  std::memcpy(i, t.raw.data(), 16);
  EXPECT_EQ(i[1], -2);
}

Tensor Raw(DataType type, const void* data, size_t bytes, int64_t n) {
  Tensor t;
  t.name = "h";
  t.datatype = type;
  t.shape = {n};
  t.raw.assign(static_cast<const char*>(data), bytes);
  return t;
}

TEST(TensorTest, CastsFp64ToFp16AndBf16RoundingToNearest) {
  const double d[3] = {1.5, -2.0, 65504.0};
  Tensor h = Raw(DataType::kFp64, d, sizeof d, 3);
  ASSERT_TRUE(CastTensor(h, DataType::kFp16).ok());
  EXPECT_EQ(h.datatype, DataType::kFp16);
  EXPECT_EQ(h.raw, std::string("\x00\x3e\x00\xc0\xff\x7b", 6));
  Tensor b = Raw(DataType::kFp64, d, 16, 2);
  ASSERT_TRUE(CastTensor(b, DataType::kBf16).ok());
  EXPECT_EQ(b.raw, std::string("\xc0\x3f\x00\xc0", 4));
}

TEST(TensorTest, CastsFp16AndBf16ToWiderTypes) {
  const uint16_t half[2] = {0x3e00, 0xc000};  // 1.5, -2
  Tensor h = Raw(DataType::kFp16, half, sizeof half, 2);
  ASSERT_TRUE(CastTensor(h, DataType::kFp64).ok());
  double d[2];
  std::memcpy(d, h.raw.data(), sizeof d);
  EXPECT_EQ(d[0], 1.5);
  EXPECT_EQ(d[1], -2.0);
  const uint16_t bf[2] = {0x4040, 0x3f80};  // 3, 1
  Tensor b = Raw(DataType::kBf16, bf, sizeof bf, 2);
  ASSERT_TRUE(CastTensor(b, DataType::kInt32).ok());
  int32_t i[2];
  std::memcpy(i, b.raw.data(), sizeof i);
  EXPECT_EQ(i[0], 3);
  EXPECT_EQ(i[1], 1);
  Tensor f = Raw(DataType::kFp16, half, sizeof half, 2);
  ASSERT_TRUE(CastTensor(f, DataType::kBf16).ok());
  EXPECT_EQ(f.raw, std::string("\xc0\x3f\x00\xc0", 4));
}

TEST(TensorTest, RefusesFiniteValuesPastTheHalfRange) {
  const double d[2] = {1.0, 1e6};
  Tensor h = Raw(DataType::kFp64, d, sizeof d, 2);
  Status s = CastTensor(h, DataType::kFp16);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("output 'h': element 1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("no FP16 value"), std::string::npos) << s.message();
  EXPECT_EQ(h.datatype, DataType::kFp64);  // unchanged on error
  const int32_t big[1] = {100000};
  Tensor i = Raw(DataType::kInt32, big, sizeof big, 1);
  EXPECT_FALSE(CastTensor(i, DataType::kFp16).ok());
  // Infinity and NaN are FP16 values: they convert.
  const double inf[2] = {std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()};
  Tensor n = Raw(DataType::kFp64, inf, sizeof inf, 2);
  ASSERT_TRUE(CastTensor(n, DataType::kFp16).ok());
  EXPECT_EQ(n.raw.substr(0, 2), std::string("\x00\x7c", 2));
  // An FP16 infinity has no integer value.
  Tensor back = n;
  EXPECT_FALSE(CastTensor(back, DataType::kInt16).ok());
}

TEST(TensorTest, RefusesToCastStrings) {
  Tensor t;
  t.name = "s";
  t.datatype = DataType::kBytes;
  t.strings = {"a"};
  Status s = CastTensor(t, DataType::kFp64);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("'s'"), std::string::npos);
  EXPECT_NE(s.message().find("cannot convert BYTES to FP64"), std::string::npos) << s.message();
  Tensor h;
  h.name = "h";
  h.datatype = DataType::kFp16;
  h.raw = std::string(2, '\0');
  EXPECT_FALSE(CastTensor(h, DataType::kBytes).ok());
}

}  // namespace
}  // namespace modelgate

namespace modelgate {
namespace {

Tensor Fp64(std::vector<double> values) {
  Tensor t;
  t.name = "y";
  t.datatype = DataType::kFp64;
  t.shape = {static_cast<int64_t>(values.size())};
  t.raw.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  return t;
}

TEST(CastTensorTest, RefusesFloatsWithoutAnIntegerValue) {
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {std::nan(""), inf, -inf, 2147483648.0, -2147483649.0, 1e300}) {
    Tensor t = Fp64({1.0, bad});
    Status s = CastTensor(t, DataType::kInt32);
    EXPECT_EQ(s.code(), StatusCode::kInternal) << bad;
    EXPECT_NE(s.message().find("element 1"), std::string::npos) << s.message();
  }
}

TEST(CastTensorTest, ConvertsFloatsAtTheEdgesOfTheRange) {
  Tensor t = Fp64({2147483647.9, -2147483648.5, -0.5});
  ASSERT_TRUE(CastTensor(t, DataType::kInt32).ok());
  int32_t v[3];
  std::memcpy(v, t.raw.data(), sizeof v);
  EXPECT_EQ(v[0], 2147483647);
  EXPECT_EQ(v[1], -2147483647 - 1);
  EXPECT_EQ(v[2], 0);
  Tensor u = Fp64({-0.9, 255.5});
  ASSERT_TRUE(CastTensor(u, DataType::kUint8).ok());
  EXPECT_EQ(static_cast<unsigned char>(u.raw[1]), 255);
}

TEST(CastTensorTest, RefusesIntegersThatWouldWrap) {
  Tensor t;
  t.name = "y";
  t.datatype = DataType::kInt64;
  t.shape = {1};
  const int64_t big = int64_t{1} << 40;
  t.raw.assign(reinterpret_cast<const char*>(&big), sizeof big);
  EXPECT_EQ(CastTensor(t, DataType::kInt32).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace modelgate
