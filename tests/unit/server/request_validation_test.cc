// ShapeOutputs: what a worker's answer may hold before it is encoded.
#include "server/request_validation.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

Tensor Fp64(const std::string& name) {
  Tensor t;
  t.name = name;
  t.datatype = DataType::kFp64;
  t.shape = {1};
  t.raw.assign(8, '\0');
  return t;
}

ModelConfig Undeclared() {
  ModelConfig c;
  c.name = "m";
  return c;
}

TEST(ShapeOutputsTest, TwoOutputsOfOneNameAreInternalNamingTheOutput) {
  for (const auto& requested : {std::vector<std::string>{}, std::vector<std::string>{"y"}}) {
    std::vector<Tensor> outputs{Fp64("y"), Fp64("y")};
    Status s = ShapeOutputs(Undeclared(), requested, outputs);
    EXPECT_EQ(s.code(), StatusCode::kInternal);
    EXPECT_EQ(s.message(), "model 'm' returned output 'y' twice");
  }
  ModelConfig declared = Undeclared();
  declared.outputs.push_back(TensorSpec{"y", DataType::kFp64, {-1}});
  std::vector<Tensor> outputs{Fp64("y"), Fp64("y")};
  EXPECT_EQ(ShapeOutputs(declared, {}, outputs).code(), StatusCode::kInternal);
}

TEST(ShapeOutputsTest, RequestedOutputAnUndeclaringModelDidNotReturnIsInvalidArgument) {
  std::vector<Tensor> outputs{Fp64("y"), Fp64("pid")};
  Status s = ShapeOutputs(Undeclared(), {"y", "zzz"}, outputs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown output 'zzz': model 'm' returned y, pid");

  std::vector<Tensor> none;
  s = ShapeOutputs(Undeclared(), {"zzz"}, none);
  EXPECT_EQ(s.message(), "unknown output 'zzz': model 'm' returned no outputs");
}

TEST(ShapeOutputsTest, RequestedOutputsOfAnUndeclaringModelAreKept) {
  std::vector<Tensor> outputs{Fp64("y"), Fp64("pid")};
  ASSERT_TRUE(ShapeOutputs(Undeclared(), {"pid"}, outputs).ok());
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].name, "pid");
}

}  // namespace
}  // namespace modelgate
