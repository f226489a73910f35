#include "backend/ipc/frame_codec.h"

#include <gtest/gtest.h>

namespace modelgate {
namespace {

using worker::v1::Frame;

Frame InferFrame(uint64_t id, size_t payload) {
  Frame f;
  f.set_id(id);
  auto* t = f.mutable_infer()->add_inputs();
  t->set_name("x");
  t->set_datatype("FP64");
  t->add_shape(static_cast<int64_t>(payload / 8));
  t->set_raw(std::string(payload, '\x7f'));
  return f;
}

TEST(FrameCodecTest, RoundTripsSeveralFramesFedOneByteAtATime) {
  std::string wire;
  for (uint64_t id = 1; id <= 3; ++id)
    ASSERT_TRUE(EncodeFrame(InferFrame(id, 80 * id), &wire).ok());
  FrameDecoder d;
  std::vector<Frame> got;
  Frame f;
  Status err;
  for (char c : wire) {
    d.Append(&c, 1);
    while (d.Next(&f, &err) == FrameDecoder::Result::kFrame) got.push_back(f);
  }
  ASSERT_EQ(got.size(), 3u);
  for (uint64_t id = 1; id <= 3; ++id) {
    EXPECT_EQ(got[id - 1].id(), id);
    EXPECT_EQ(got[id - 1].infer().inputs(0).raw().size(), 80 * id);
  }
  EXPECT_EQ(d.pending_bytes(), 0u);
}

TEST(FrameCodecTest, HeaderIsLittleEndianLength) {
  std::string wire;
  Frame f;
  f.set_id(1);
  f.mutable_ping();
  ASSERT_TRUE(EncodeFrame(f, &wire).ok());
  const uint32_t body = static_cast<uint32_t>(wire.size() - 4);
  EXPECT_EQ(static_cast<uint8_t>(wire[0]), body & 0xff);
  EXPECT_EQ(wire[3], 0);
}

TEST(FrameCodecTest, TruncatedFrameWaitsForMoreAndReportsPending) {
  std::string wire;
  ASSERT_TRUE(EncodeFrame(InferFrame(9, 64), &wire).ok());
  FrameDecoder d;
  d.Append(wire.substr(0, wire.size() - 5));
  Frame f;
  Status err;
  EXPECT_EQ(d.Next(&f, &err), FrameDecoder::Result::kNeedMore);
  EXPECT_EQ(d.pending_bytes(), wire.size() - 5);
  d.Append(wire.substr(wire.size() - 5));
  EXPECT_EQ(d.Next(&f, &err), FrameDecoder::Result::kFrame);
  EXPECT_EQ(f.id(), 9u);
}

TEST(FrameCodecTest, OversizedLengthIsRejectedBeforeAllocating) {
  FrameDecoder d(1024);
  const char header[4] = {'\x01', '\x04', '\x00', '\x00'};  // 1025
  d.Append(header, 4);
  Frame f;
  Status err;
  EXPECT_EQ(d.Next(&f, &err), FrameDecoder::Result::kError);
  EXPECT_NE(err.message().find("exceeds the limit of 1024"), std::string::npos) << err.message();
  // The stream stays failed.
  d.Append("xxxx");
  EXPECT_EQ(d.Next(&f, &err), FrameDecoder::Result::kError);
}

TEST(FrameCodecTest, GarbageBodyIsAClearError) {
  FrameDecoder d;
  const std::string body = "\xff\xff\xff\xff\xff\xff\xff";
  const char header[4] = {static_cast<char>(body.size()), 0, 0, 0};
  d.Append(header, 4);
  d.Append(body);
  Frame f;
  Status err;
  EXPECT_EQ(d.Next(&f, &err), FrameDecoder::Result::kError);
  EXPECT_NE(err.message().find("do not parse"), std::string::npos) << err.message();
}

TEST(FrameCodecTest, EncodeRefusesFramesOverTheLimit) {
  std::string wire;
  Status s = EncodeFrame(InferFrame(1, 4096), &wire, 1000);
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
  EXPECT_TRUE(wire.empty());
}

TEST(FrameCodecTest, RandomBytesNeverCrash) {
  uint32_t seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    FrameDecoder d(1 << 16);
    std::string junk;
    const int len = static_cast<int>(seed % 64);
    for (int i = 0; i < len; ++i) {
      seed = seed * 1103515245u + 12345u;
      junk.push_back(static_cast<char>(seed >> 16));
    }
    d.Append(junk);
    Frame f;
    Status err;
    auto r = d.Next(&f, &err);
    for (int i = 0; i < 8 && r == FrameDecoder::Result::kFrame; ++i) r = d.Next(&f, &err);
    ASSERT_LE(d.pending_bytes(), junk.size());
    if (r == FrameDecoder::Result::kError) {
      EXPECT_FALSE(err.ok());
      EXPECT_EQ(d.Next(&f, &err), FrameDecoder::Result::kError);  // stays failed
    }
  }
}

}  // namespace
}  // namespace modelgate
