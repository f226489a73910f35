// The record codec between a logging call and the logging thread.
#include "observability/log_record.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modelgate {
namespace {

class Collect final : public LogRecordVisitor {
 public:
  void Event(std::string_view e) override { out += std::string(e) + ";"; }
  void Field(std::string_view k, const LogValue& v, bool cut) override {
    ++fields;
    out += std::string(k) + ":" + std::to_string(static_cast<int>(v.type())) + ":";
    if (v.type() == LogValue::Type::kString) out += std::string(v.str()) + (cut ? "+" : "");
    if (v.type() == LogValue::Type::kInt) out += std::to_string(v.i());
    if (v.type() == LogValue::Type::kUint) out += std::to_string(v.u());
    if (v.type() == LogValue::Type::kBool) out += v.b() ? "true" : "false";
    out += ";";
  }
  std::string out;
  size_t fields = 0;
};

std::string_view View(const spdlog::memory_buf_t& buf) { return {buf.data(), buf.size()}; }

TEST(LogRecordTest, RoundTripsEveryType) {
  spdlog::memory_buf_t buf;
  EncodeLogRecord("ev", {{"s", "x\ny"}, {"i", -3}, {"u", 7u}, {"b", true}, {"n", nullptr}}, buf);
  Collect c;
  EXPECT_TRUE(DecodeLogRecord(View(buf), c));
  EXPECT_EQ(c.out, "ev;s:0:x\ny;i:1:-3;u:2:7;b:4:true;n:5:;");
}

TEST(LogRecordTest, DoublesRoundTripBitExact) {
  spdlog::memory_buf_t buf;
  EncodeLogRecord("ev", {{"d", 0.1}, {"neg", -2.5e300}}, buf);
  struct Doubles final : LogRecordVisitor {
    void Event(std::string_view) override {}
    void Field(std::string_view k, const LogValue& v, bool) override {
      ASSERT_EQ(v.type(), LogValue::Type::kDouble) << k;
      values.push_back(v.d());
    }
    std::vector<double> values;
  } d;
  EXPECT_TRUE(DecodeLogRecord(View(buf), d));
  EXPECT_EQ(d.values, (std::vector<double>{0.1, -2.5e300}));
}

TEST(LogRecordTest, UnknownFieldTypeStopsDecoding) {
  spdlog::memory_buf_t buf;
  EncodeLogRecord("ev", {{"a", 1}}, buf);
  std::string payload(buf.data(), buf.size());
  payload += std::string("\x3f\x01z", 3);  // type 63: none
  Collect c;
  EXPECT_FALSE(DecodeLogRecord(payload, c));
  EXPECT_EQ(c.fields, 1u);
}

TEST(LogRecordTest, TruncatedPayloadDecodesOnlyAtAFieldBoundary) {
  spdlog::memory_buf_t buf;
  EncodeLogRecord("ev", {{"a", "x\ny"}, {"b", -3}}, buf);
  const std::string_view payload = View(buf);
  // Whole records end after the event (1 + 2 bytes) and after field a
  // (type, key length, key, u32 length, 3 bytes).
  for (size_t n = 0; n < payload.size(); ++n) {
    Collect partial;
    EXPECT_EQ(DecodeLogRecord(payload.substr(0, n), partial), n == 3 || n == 13) << n;
  }
}

TEST(LogRecordTest, LongValueIsCutAndFlagged) {
  const std::string big(1 << 20, 'a');
  spdlog::memory_buf_t buf;
  EncodeLogRecord("ev", {{"v", big}}, buf);
  EXPECT_LT(buf.size(), kMaxLogValueBytes + 64);  // the 1 MiB never reaches the queue
  Collect c;
  EXPECT_TRUE(DecodeLogRecord(View(buf), c));
  EXPECT_EQ(c.out, "ev;v:0:" + std::string(kMaxLogValueBytes, 'a') + "+;");
}

TEST(LogRecordTest, CutBacksOffToTheStartOfAUtf8Sequence) {
  bool cut = false;
  // A 3-byte '€' straddles the limit: it is dropped whole.
  const std::string v = std::string(kMaxLogValueBytes - 1, 'a') + "\xe2\x82\xac" + "tail";
  EXPECT_EQ(CutLogValue(v, &cut), std::string(kMaxLogValueBytes - 1, 'a'));
  EXPECT_TRUE(cut);
  const std::string exact(kMaxLogValueBytes, 'a');
  EXPECT_EQ(CutLogValue(exact, &cut).size(), kMaxLogValueBytes);
  EXPECT_FALSE(cut);
}

TEST(LogRecordTest, FieldsPastTheLimitAreDropped) {
  spdlog::memory_buf_t buf;
  EncodeLogRecord(
      "many",
      {{"f00", 0},  {"f01", 1},  {"f02", 2},  {"f03", 3},  {"f04", 4},  {"f05", 5},  {"f06", 6},
       {"f07", 7},  {"f08", 8},  {"f09", 9},  {"f10", 10}, {"f11", 11}, {"f12", 12}, {"f13", 13},
       {"f14", 14}, {"f15", 15}, {"f16", 16}, {"f17", 17}, {"f18", 18}, {"f19", 19}, {"f20", 20},
       {"f21", 21}, {"f22", 22}, {"f23", 23}, {"f24", 24}, {"f25", 25}, {"f26", 26}, {"f27", 27},
       {"f28", 28}, {"f29", 29}, {"f30", 30}, {"f31", 31}, {"f32", 32}},
      buf);
  Collect c;
  EXPECT_TRUE(DecodeLogRecord(View(buf), c));
  EXPECT_EQ(c.fields, kMaxLogFields);
  EXPECT_EQ(c.out.find("f32"), std::string::npos);
}

}  // namespace
}  // namespace modelgate
