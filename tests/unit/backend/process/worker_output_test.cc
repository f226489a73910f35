// WorkerOutput: line splitting, the stderr tail and what a client may see of
// it. The rate-limited logging itself is covered by the daemon's flood test
// (tests/integration/py/test_security_adversarial.py).
#include "backend/process/worker_output.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <string>

#include "support/captured_log.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using Stream = WorkerOutput::Stream;

class WorkerOutputTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  WorkerOutput out_{"m", "1", time_};
};

TEST_F(WorkerOutputTest, LinesSplitAcrossReadsAreJoined) {
  out_.Consume(Stream::kStderr, "fir");
  EXPECT_EQ(out_.stderr_lines(), 0u);
  out_.Consume(Stream::kStderr, "st\nsecond\nthi");
  EXPECT_EQ(out_.stderr_lines(), 2u);
  EXPECT_EQ(out_.Tail(), "\n  first\n  second");
  out_.Close(Stream::kStderr);  // the unfinished last line counts at EOF
  EXPECT_EQ(out_.Tail(), "\n  first\n  second\n  thi");
}

TEST_F(WorkerOutputTest, StdoutNeverEntersTheStderrTail) {
  out_.Consume(Stream::kStdout, "out\n");
  out_.Close(Stream::kStdout);
  EXPECT_EQ(out_.stderr_lines(), 0u);
  EXPECT_EQ(out_.Tail(), "");
}

TEST_F(WorkerOutputTest, ALineWithoutEndIsCutAtTheLogLimit) {
  out_.Consume(Stream::kStderr, std::string(WorkerOutput::kMaxLogLineBytes + 1, 'x'));
  EXPECT_EQ(out_.stderr_lines(), 1u);
  // The tail keeps a bounded prefix of each line.
  EXPECT_EQ(out_.Tail(), "\n  " + std::string(WorkerOutput::kMaxTailLineBytes, 'x'));
}

TEST_F(WorkerOutputTest, TheTailKeepsTheLastLinesOnly) {
  for (size_t i = 0; i < WorkerOutput::kStderrTailLines + 5; ++i) {
    out_.Consume(Stream::kStderr, "line" + std::to_string(i) + "\n");
  }
  const std::string tail = out_.Tail();
  EXPECT_EQ(tail.find("line4\n"), std::string::npos);
  EXPECT_EQ(tail.rfind("\n  line5\n", 0), 0u);
  EXPECT_NE(tail.find("\n  line24"), std::string::npos);
}

TEST_F(WorkerOutputTest, AClientSeesTheLoadAndItsOwnLinesNotOtherRequests) {
  out_.Consume(Stream::kStderr, "loading\n");
  const uint64_t load_end = out_.stderr_lines();
  out_.Consume(Stream::kStderr, "secret of request A\nmore of A\n");
  const uint64_t own_from = out_.stderr_lines();
  out_.Consume(Stream::kStderr, "request B fails\n");
  EXPECT_EQ(out_.ClientTail(load_end, own_from),
            "\n  loading\n  (2 lines of earlier requests omitted)\n  request B fails");
  // The log keeps everything.
  EXPECT_NE(out_.Tail().find("secret of request A"), std::string::npos);
}

TEST_F(WorkerOutputTest, LinesCarryTheRequestTheyWereWrittenFor) {
  testing::CapturedLog log;
  out_.Consume(Stream::kStdout, "loading\nhalf a line");
  out_.SetRequest("r1");  // the unfinished line was written before r1
  out_.Consume(Stream::kStderr, "during r1\nno newline");
  out_.Consume(Stream::kStdout, "on stdout\n");
  out_.SetRequest("");  // r1 answered: its unfinished line is its own
  out_.Consume(Stream::kStdout, "between\n");
  out_.SetRequest("a b");  // a batch
  out_.Consume(Stream::kStdout, "batch\n");
  out_.Close(Stream::kStdout);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& r : log.Records("worker output")) {
    got.emplace_back(r.at("line"), r.contains("request_id") ? r.at("request_id") : "(none)");
  }
  const std::vector<std::pair<std::string, std::string>> want = {
      {"loading", "(none)"}, {"half a line", "(none)"}, {"during r1", "r1"}, {"on stdout", "r1"},
      {"no newline", "r1"},  {"between", "(none)"},     {"batch", "a b"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(out_.request(), "a b");
}

TEST_F(WorkerOutputTest, BeforeAnyRequestAClientSeesEveryLine) {
  out_.Consume(Stream::kStderr, "a\nb\n");
  EXPECT_EQ(out_.ClientTail(std::nullopt, 0), "\n  a\n  b");
}

}  // namespace
}  // namespace modelgate
