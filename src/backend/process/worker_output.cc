#include "backend/process/worker_output.h"

#include "modelgate/log_event.h"

namespace modelgate {

WorkerOutput::WorkerOutput(std::string model, std::string version, const TimeSource& time)
    : model_(std::move(model)),
      version_(std::move(version)),
      logged_lines_(kLoggedLinesPerSecond, kLoggedLinesBurst, time) {}

void WorkerOutput::Consume(Stream stream, std::string_view data) {
  std::string& partial = Partial(stream);
  partial.append(data);
  size_t start = 0;
  for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    Emit(std::string_view(partial).substr(start, nl - start), stream);
  }
  partial.erase(0, start);
  if (partial.size() > kMaxLogLineBytes) {  // a line without end: cut it
    Emit(partial, stream);
    partial.clear();
  }
}

void WorkerOutput::Close(Stream stream) {
  std::string& partial = Partial(stream);
  if (!partial.empty()) Emit(partial, stream);
  partial.clear();
}

void WorkerOutput::SetRequest(std::string request_ids) {
  Close(Stream::kStdout);
  Close(Stream::kStderr);
  request_ = std::move(request_ids);
}

void WorkerOutput::Emit(std::string_view line, Stream stream) {
  if (line.size() > kMaxLogLineBytes) line = line.substr(0, kMaxLogLineBytes);
  const bool is_stderr = stream == Stream::kStderr;
  if (logged_lines_.TryTake()) {
    ReportSuppressed();
    const char* stream_name = is_stderr ? "stderr" : "stdout";
    if (request_.empty()) {
      LogInfo("worker output", {{"model", model_},
                                {"version", version_},
                                {"pid", pid_},
                                {"stream", stream_name},
                                {"line", line}});
    } else {
      LogInfo("worker output", {{"model", model_},
                                {"version", version_},
                                {"pid", pid_},
                                {"request_id", request_},
                                {"stream", stream_name},
                                {"line", line}});
    }
  } else {
    ++suppressed_lines_;
  }
  if (is_stderr) {
    stderr_tail_.emplace_back(line.substr(0, kMaxTailLineBytes));
    ++stderr_lines_;
    if (stderr_tail_.size() > kStderrTailLines) stderr_tail_.pop_front();
  }
}

void WorkerOutput::ReportSuppressed() {
  if (suppressed_lines_ == 0) return;
  LogWarn("worker output suppressed", {{"model", model_},
                                       {"version", version_},
                                       {"pid", pid_},
                                       {"lines", suppressed_lines_},
                                       {"limit_per_second", kLoggedLinesPerSecond}});
  suppressed_lines_ = 0;
}

std::string WorkerOutput::Tail() const {
  std::string tail;
  for (const auto& l : stderr_tail_) tail += "\n  " + l;
  return tail;
}

std::string WorkerOutput::ClientTail(std::optional<uint64_t> load_end,
                                     uint64_t request_from) const {
  std::string load_lines, own_lines;
  size_t omitted = 0;
  uint64_t seq = stderr_lines_ - stderr_tail_.size();
  for (const auto& l : stderr_tail_) {
    if (load_end && seq < *load_end) {
      load_lines += "\n  " + l;
    } else if (seq >= request_from) {
      own_lines += "\n  " + l;
    } else {
      ++omitted;
    }
    ++seq;
  }
  std::string tail = load_lines;
  if (omitted > 0) {
    tail += "\n  (" + std::to_string(omitted) + " lines of earlier requests omitted)";
  }
  return tail + own_lines;
}

}  // namespace modelgate
