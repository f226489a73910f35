#include "backend/process/tensor_proto.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

worker::v1::Tensor Proto(const std::string& datatype, std::vector<int64_t> shape,
                         std::string raw = "") {
  worker::v1::Tensor t;
  t.set_name("y");
  t.set_datatype(datatype);
  for (int64_t d : shape) t.add_shape(d);
  t.set_raw(std::move(raw));
  return t;
}

void ExpectInternal(const StatusOr<Tensor>& t, const std::string& fragment) {
  ASSERT_FALSE(t.ok()) << fragment;
  EXPECT_EQ(t.status().code(), StatusCode::kInternal);
  EXPECT_NE(t.status().message().find(fragment), std::string::npos) << t.status().message();
}

TEST(TensorProtoTest, HalfPrecisionOutputsKeepTheirData) {
  for (const char* type : {"FP16", "BF16"}) {
    auto t = MoveFromProto(Proto(type, {2}, std::string("\x00\x3e\x00\xc0", 4)), "m");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(DataTypeName(t->datatype), type);
    EXPECT_EQ(t->raw, std::string("\x00\x3e\x00\xc0", 4));
    worker::v1::Tensor back;
    MoveToProto(std::move(*t), &back);
    EXPECT_EQ(back.datatype(), type);
    EXPECT_EQ(back.raw(), std::string("\x00\x3e\x00\xc0", 4));
  }
  ExpectInternal(MoveFromProto(Proto("FP16", {2}, std::string(2, '\0')), "m"),
                 "shape [2] needs 2 elements, the worker sent 1");
  ExpectInternal(MoveFromProto(Proto("BF16", {1}, std::string(3, '\0')), "m"),
                 "not a whole number of 2-byte elements");
}

TEST(TensorProtoTest, RejectsAbsurdWorkerShapesNamingModelAndOutput) {
  // [2^62, 4] wraps to 0 elements unchecked; the V1 encoder then read past the data.
  ExpectInternal(MoveFromProto(Proto("FP64", {int64_t{1} << 62, 4}), "m"),
                 "model 'm' output 'y': shape [4611686018427387904,4]");
  ExpectInternal(MoveFromProto(Proto("BYTES", {int64_t{1} << 62, 4}), "m"), "model 'm' output 'y'");
  ExpectInternal(MoveFromProto(Proto("FP64", {20000000, 0}), "m"), "nests 20000000 rows");
  ExpectInternal(MoveFromProto(Proto("FP64", {2}, std::string(8, '\0')), "m"),
                 "shape [2] needs 2 elements, the worker sent 1");
  ExpectInternal(MoveFromProto(Proto("FP64", {1}, std::string(9, '\0')), "m"),
                 "not a whole number of 8-byte elements");
  ExpectInternal(
      MoveFromProto(Proto("FP64", std::vector<int64_t>(17, 1), std::string(8, '\0')), "m"),
      "17 dimensions");
  ExpectInternal(MoveFromProto(Proto("FLOAT", {1}), "m"),
                 "model 'm' output 'y' has unknown datatype");
}

TEST(TensorProtoTest, AcceptsWellFormedOutputsIncludingSmallEmptyOnes) {
  auto t = MoveFromProto(Proto("FP64", {2, 2}, std::string(32, '\0')), "m");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 2}));
  auto empty = MoveFromProto(Proto("FP64", {3, 0}), "m");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
}

TEST(TensorProtoTest, ParametersGoIntoTheInferFrameSortedWithTheirTypes) {
  const Parameters params = {{"window", int64_t{-5}},
                             {"alternative", std::string("less")},
                             {"prob", true},
                             {"scale", 0.5}};
  worker::v1::Infer infer;
  ParametersToProto(params, &infer);
  ASSERT_EQ(infer.parameters_size(), 4);
  EXPECT_EQ(infer.parameters(0).name(), "alternative");
  EXPECT_EQ(infer.parameters(0).string_param(), "less");
  EXPECT_EQ(infer.parameters(1).name(), "prob");
  EXPECT_EQ(infer.parameters(1).value_case(), worker::v1::Parameter::kBoolParam);
  EXPECT_TRUE(infer.parameters(1).bool_param());
  EXPECT_EQ(infer.parameters(2).double_param(), 0.5);
  EXPECT_EQ(infer.parameters(3).name(), "window");
  EXPECT_EQ(infer.parameters(3).int64_param(), -5);
}

}  // namespace
}  // namespace modelgate
