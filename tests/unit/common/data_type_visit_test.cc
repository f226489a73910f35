// VisitDataType: the one DataType -> C++ element type dispatch.
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "modelgate/tensor.h"

namespace modelgate {
namespace {

template <class Expected>
bool Is(DataType type) {
  return VisitDataType(type,
                       []<class T>(std::type_identity<T>) { return std::is_same_v<T, Expected>; });
}

TEST(VisitDataTypeTest, MapsEveryDatatypeToItsElementType) {
  EXPECT_TRUE(Is<bool>(DataType::kBool));
  EXPECT_TRUE(Is<uint8_t>(DataType::kUint8));
  EXPECT_TRUE(Is<uint16_t>(DataType::kUint16));
  EXPECT_TRUE(Is<uint32_t>(DataType::kUint32));
  EXPECT_TRUE(Is<uint64_t>(DataType::kUint64));
  EXPECT_TRUE(Is<int8_t>(DataType::kInt8));
  EXPECT_TRUE(Is<int16_t>(DataType::kInt16));
  EXPECT_TRUE(Is<int32_t>(DataType::kInt32));
  EXPECT_TRUE(Is<int64_t>(DataType::kInt64));
  EXPECT_TRUE(Is<Fp16>(DataType::kFp16));
  EXPECT_TRUE(Is<float>(DataType::kFp32));
  EXPECT_TRUE(Is<double>(DataType::kFp64));
  EXPECT_TRUE(Is<std::string>(DataType::kBytes));
  EXPECT_TRUE(Is<Bf16>(DataType::kBf16));
  EXPECT_FALSE(Is<float>(DataType::kFp16));  // FP16 is storage, not float
}

TEST(VisitDataTypeTest, ElementSizeComesFromTheElementType) {
  for (int i = 0; i <= static_cast<int>(DataType::kBf16); ++i) {
    const auto type = static_cast<DataType>(i);
    const size_t expected = VisitDataType(type, []<class T>(std::type_identity<T>) -> size_t {
      if constexpr (std::is_same_v<T, std::string>) {
        return 0;
      } else {
        return sizeof(T);
      }
    });
    EXPECT_EQ(ElementSize(type), expected) << DataTypeName(type);
  }
  EXPECT_EQ(ElementSize(DataType::kFp16), 2u);
  EXPECT_EQ(ElementSize(DataType::kBf16), 2u);
  EXPECT_EQ(ElementSize(DataType::kBool), 1u);
}

TEST(VisitDataTypeTest, ReturnsWhatTheVisitorReturns) {
  const std::string name = VisitDataType(DataType::kInt16, []<class T>(std::type_identity<T>) {
    return std::string(std::is_signed_v<T> ? "signed" : "other") + std::to_string(sizeof(T));
  });
  EXPECT_EQ(name, "signed2");
}

}  // namespace
}  // namespace modelgate
