// WorkerOutput: what a worker writes to stdout and stderr. Splits it into
// lines, logs each (tagged with model, version, pid and the id(s) of the
// request the worker was running when the line was written; at most
// kLoggedLinesPerSecond with bursts of kLoggedLinesBurst, the rest counted and
// reported as "worker output suppressed"), and keeps the last
// kStderrTailLines lines of stderr to explain a death.
//
// The tail is numbered, so a caller can tell the lines of the load and of one
// request apart: a client may see only those (lines written during earlier
// requests may hold other clients' data). io thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "modelgate/time_source.h"
#include "resilience/token_bucket.h"

namespace modelgate {

class WorkerOutput {
 public:
  enum class Stream { kStdout, kStderr };

  static constexpr size_t kStderrTailLines = 20;
  static constexpr size_t kMaxLogLineBytes = 8192;
  // Each tail line keeps this much (the log got the line whole).
  static constexpr size_t kMaxTailLineBytes = 500;
  static constexpr double kLoggedLinesPerSecond = 200;
  static constexpr double kLoggedLinesBurst = 1000;

  // `time` drives the log rate limit; it must outlive this object.
  WorkerOutput(std::string model, std::string version, const TimeSource& time);

  void set_pid(int pid) { pid_ = pid; }

  // Lines from now on belong to `request_ids` (one request's id, or a batch's
  // ids separated by spaces; empty: no request). An unfinished line of either
  // stream is logged first, under the previous owner: text written before
  // this point never carries the next owner's id. The caller makes the
  // switch exact by consuming everything the worker wrote before it first.
  void SetRequest(std::string request_ids);
  const std::string& request() const { return request_; }

  // Bytes read from `stream`: each finished line is logged; an unfinished
  // one waits for the rest, unless it passes kMaxLogLineBytes (then cut).
  void Consume(Stream stream, std::string_view data);
  // `stream` ended: an unfinished last line is logged as it is.
  void Close(Stream stream);
  // Logs how many lines the rate limit held back since the last report.
  void ReportSuppressed();

  // Stderr lines seen so far: a mark for ClientTail.
  uint64_t stderr_lines() const { return stderr_lines_; }
  // The whole tail, each line as "\n  line"; empty without stderr.
  std::string Tail() const;
  // The tail lines a client may see: those before `load_end` (the load's;
  // none when unset) and those from `request_from` on, with a count of the
  // lines omitted between them.
  std::string ClientTail(std::optional<uint64_t> load_end, uint64_t request_from) const;

 private:
  void Emit(std::string_view line, Stream stream);
  std::string& Partial(Stream stream) {
    return stream == Stream::kStderr ? stderr_partial_ : stdout_partial_;
  }

  const std::string model_;
  const std::string version_;
  int pid_ = -1;
  std::string request_;  // whose lines these are now; empty: no request's
  std::string stdout_partial_;
  std::string stderr_partial_;
  std::deque<std::string> stderr_tail_;
  uint64_t stderr_lines_ = 0;  // stderr lines emitted so far; the tail ends with the last
  TokenBucket logged_lines_;
  uint64_t suppressed_lines_ = 0;  // not logged since the last report
};

}  // namespace modelgate
