#include "backend/process/process_worker.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdint>
#include <cstdio>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "backend/process/hello_signature.h"
#include "backend/process/tensor_proto.h"
#include "modelgate/log_event.h"
#include "spdlog/spdlog.h"

namespace modelgate {

namespace asio = boost::asio;
using boost::system::error_code;

ProcessWorker::ProcessWorker(asio::io_context& io, ChildReaper& reaper, TimeSource& time,
                             WorkerOptions options, Listener* listener)
    : io_(io),
      reaper_(reaper),
      options_(std::move(options)),
      listener_(listener),
      to_child_(io),
      from_child_(io),
      stdout_(io),
      stderr_(io),
      startup_timer_(time.CreateTimer([this] {
        if (state_ != WorkerState::kStarting) return;
        BeginDying(Unavailable("worker sent no Hello within " +
                               std::to_string(options_.startup_timeout.count()) + " ms"),
                   DeathCause::kStartFailed, true);
      })),
      kill_timer_(time.CreateTimer([this] { SendSignal(SIGKILL); })),
      term_timer_(time.CreateTimer([this] { SendSignal(SIGTERM); })),
      drain_timer_(time.CreateTimer([this] { Finish(); })),
      output_(options_.model, options_.version, time) {}

ProcessWorker::~ProcessWorker() {
  // Normally dead by now; if the owner drops a live worker, do not leak it.
  if (pid_ > 0 && !wait_status_) ::kill(pid_, SIGKILL);
}

void ProcessWorker::Start() {
  auto spawned = Spawn(options_.spawn);
  if (!spawned.ok()) {
    state_ = WorkerState::kDead;
    // The supervisor logs it (once, at error level) with the other start failures.
    Status why = Unavailable("model '" + options_.model + "' version " + options_.version +
                             ": cannot start worker: " + spawned.status().message());
    asio::post(io_, [self = shared_from_this(), why] {
      self->listener_->OnWorkerDead(*self, why, DeathCause::kStartFailed);
    });
    return;
  }
  pid_ = spawned->pid;
  output_.set_pid(pid_);
  to_child_.assign(spawned->frames_to_child);
  from_child_.assign(spawned->frames_from_child);
  stdout_.assign(spawned->child_stdout);
  stderr_.assign(spawned->child_stderr);
  std::string command;
  for (const auto& arg : options_.spawn.argv) command += (command.empty() ? "" : " ") + arg;
  LogInfo("worker starting:", {{"model", options_.model},
                               {"version", options_.version},
                               {"fingerprint", options_.fingerprint},
                               {"pid", pid_},
                               {"command", command}});

  auto self = shared_from_this();
  reaper_.Watch(pid_, [self](int ws) { self->OnReaped(ws); });
  // Output is read only when it is there (ReadAvailable): a read never waits.
  error_code nb;
  stdout_.non_blocking(true, nb);
  if (!nb) stderr_.non_blocking(true, nb);
  if (nb) {
    BeginDying(Internal("cannot make the worker's output pipes non-blocking: " + nb.message()),
               DeathCause::kStartFailed, true);
    return;
  }
  startup_timer_->Enable(options_.startup_timeout);
  ReadFrames();
  ReadLines(WorkerOutput::Stream::kStdout);
  ReadLines(WorkerOutput::Stream::kStderr);
}

void ProcessWorker::ReadFrames() {
  from_child_.async_read_some(
      asio::buffer(read_buf_), [self = shared_from_this()](const error_code& ec, size_t n) {
        if (ec) {
          if (ec == asio::error::operation_aborted) return;
          self->BeginDying(
              Unavailable(ec == asio::error::eof ? "worker closed its frame pipe"
                                                 : "frame pipe read failed: " + ec.message()),
              DeathCause::kCrash, false, self->options_.exit_grace);
          return;
        }
        self->decoder_.Append(self->read_buf_.data(), n);
        worker::v1::Frame frame;
        Status error;
        for (;;) {
          auto r = self->decoder_.Next(&frame, &error);
          if (r == FrameDecoder::Result::kNeedMore) break;
          if (r == FrameDecoder::Result::kError) {
            self->BeginDying(Internal("worker wrote a " + error.message()), DeathCause::kMalformed,
                             true);
            return;
          }
          self->HandleFrame(frame);
          if (self->state_ == WorkerState::kDying || self->state_ == WorkerState::kDead) return;
        }
        self->ReadFrames();
      });
}

void ProcessWorker::HandleFrame(worker::v1::Frame& frame) {
  using worker::v1::Frame;
  const auto kind = frame.body_case();
  if (state_ == WorkerState::kStarting) {
    if (kind == Frame::kHello) {
      startup_timer_->Disable();
      // Sizes and names were checked, and what config.json declares must agree.
      auto code = DecodeHelloSignature(frame.hello());
      auto merged = !code.ok() || !options_.declared
                        ? code
                        : MergeSignature(*options_.declared, *code, options_.code_file);
      if (!merged.ok()) {  // the supervisor logs it with the other start failures
        BeginDying(Unavailable(merged.status().message()), DeathCause::kStartFailed, false,
                   options_.exit_grace);
        return;
      }
      signature_ = std::make_shared<const ModelSignature>(std::move(merged).value());
      runtime_ = frame.hello().runtime() + " (" + frame.hello().runtime_version() + ")";
      state_ = WorkerState::kReady;
      LogInfo("worker ready", {{"model", options_.model},
                               {"version", options_.version},
                               {"pid", pid_},
                               {"runtime", runtime_}});
      listener_->OnWorkerReady(*this);
      return;
    }
    if (kind == Frame::kError) {
      std::string msg = frame.error().message();
      if (!frame.error().traceback().empty()) {
        LogError("model load failed", {{"model", options_.model},
                                       {"version", options_.version},
                                       {"pid", pid_},
                                       {"error", msg},
                                       {"traceback", frame.error().traceback()}});
      }
      BeginDying(Unavailable(msg), DeathCause::kStartFailed, false, options_.exit_grace);
      return;
    }
  } else if (state_ == WorkerState::kBusy) {
    if (frame.id() == inflight_id_ && (kind == Frame::kResult || kind == Frame::kError)) {
      // The worker flushed its output before this answer: all of it is in
      // the pipes now and belongs to the request.
      DrainOutput();
      output_.SetRequest({});
      WorkerDone done = std::move(inflight_done_);
      inflight_done_ = nullptr;
      const bool interrupted = std::exchange(inflight_interrupted_, false);
      std::string request_id = std::move(inflight_request_id_);
      ++served_;
      state_ = WorkerState::kReady;
      if (kind == Frame::kResult) {
        std::vector<Tensor> outputs;
        outputs.reserve(frame.result().outputs_size());
        Status bad;
        for (auto& t : *frame.mutable_result()->mutable_outputs()) {
          auto out = MoveFromProto(std::move(t), options_.model);
          if (!out.ok()) {
            bad = out.status();
            break;
          }
          outputs.push_back(std::move(out).value());
        }
        if (bad.ok()) {
          done(std::move(outputs), CallOutcome::kOk);
        } else {
          // A Result that does not decode into tensors breaks the protocol.
          done(bad, CallOutcome::kProtocolError);
        }
      } else {
        const auto& e = frame.error();
        if (interrupted) {
          // The error is the interrupt the daemon asked for, not the model's.
          LogInfo("worker returned after its interrupt", {{"model", options_.model},
                                                          {"version", options_.version},
                                                          {"pid", pid_},
                                                          {"request_id", request_id},
                                                          {"error", e.message()}});
          done(Internal("model '" + options_.model + "' was interrupted: " + e.message()),
               CallOutcome::kAbandoned);
        } else if (e.invalid_input()) {
          done(InvalidArgument(e.message()), CallOutcome::kInvalidInput);
        } else {
          LogWarn("model error", {{"model", options_.model},
                                  {"version", options_.version},
                                  {"pid", pid_},
                                  {"request_id", request_id},
                                  {"error", e.message()},
                                  {"traceback", e.traceback()}});
          done(Internal("model '" + options_.model + "' raised an error: " + e.message()),
               CallOutcome::kModelError);
        }
      }
      if (state_ == WorkerState::kReady) listener_->OnWorkerReady(*this);
      return;
    }
  } else if (kind == Frame::kPong) {
    return;
  }
  BeginDying(
      Internal("worker wrote an unexpected frame (kind " + std::to_string(kind) + ", id " +
               std::to_string(frame.id()) + ") while " + std::string(WorkerStateName(state_))),
      DeathCause::kMalformed, true);
}

void ProcessWorker::Infer(std::vector<Tensor> inputs, const Parameters& parameters,
                          std::string request_id, WorkerDone done) {
  if (state_ != WorkerState::kReady) {
    asio::post(io_, [done = std::move(done), s = std::string(WorkerStateName(state_))] {
      done(Unavailable("worker is " + s + ", not ready"), CallOutcome::kNotRun);
    });
    return;
  }
  worker::v1::Frame frame;
  inflight_id_ = next_frame_id_++;
  inflight_interrupted_ = false;
  frame.set_id(inflight_id_);
  auto* infer = frame.mutable_infer();
  infer->mutable_inputs()->Reserve(static_cast<int>(inputs.size()));
  for (auto& t : inputs) MoveToProto(std::move(t), infer->add_inputs());
  ParametersToProto(parameters, infer);
  std::string bytes;
  Status s = EncodeFrame(frame, &bytes);
  if (!s.ok()) {
    asio::post(io_, [done = std::move(done), s] { done(s, CallOutcome::kNotRun); });
    return;
  }
  state_ = WorkerState::kBusy;
  inflight_done_ = std::move(done);
  // Output written since the last answer is no request's: read it before
  // this request's id applies (and before its stderr window starts).
  DrainOutput();
  output_.SetRequest(request_id);
  inflight_request_id_ = std::move(request_id);
  inflight_stderr_from_ = output_.stderr_lines();
  if (!stderr_at_first_request_) stderr_at_first_request_ = output_.stderr_lines();
  Write(std::move(bytes));
}

void ProcessWorker::Write(std::string bytes) {
  write_queue_.push_back(std::move(bytes));
  if (!writing_) DoWrite();
}

void ProcessWorker::DoWrite() {
  if (write_queue_.empty() || !to_child_.is_open()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  asio::async_write(to_child_, asio::buffer(write_queue_.front()),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      self->write_queue_.pop_front();
                      if (ec) {
                        self->writing_ = false;
                        if (ec != asio::error::operation_aborted) {
                          self->BeginDying(Unavailable("frame pipe write failed: " + ec.message()),
                                           DeathCause::kCrash, false, self->options_.exit_grace);
                        }
                        return;
                      }
                      self->DoWrite();
                    });
}

void ProcessWorker::ReadLines(WorkerOutput::Stream stream) {
  Descriptor& d = stream == WorkerOutput::Stream::kStderr ? stderr_ : stdout_;
  d.async_wait(Descriptor::wait_read, [self = shared_from_this(), stream](const error_code& ec) {
    if (ec == asio::error::operation_aborted) return;  // closed by Finish
    if (ec) {
      self->CloseOutput(stream);
      return;
    }
    if (self->ReadAvailable(stream, WorkerOptions::kMaxOutputReadPerWake)) self->ReadLines(stream);
  });
}

bool ProcessWorker::ReadAvailable(WorkerOutput::Stream stream, size_t limit) {
  const bool is_stderr = stream == WorkerOutput::Stream::kStderr;
  if (!(is_stderr ? stderr_open_ : stdout_open_)) return false;
  Descriptor& d = is_stderr ? stderr_ : stdout_;
  auto& buf = is_stderr ? stderr_buf_ : stdout_buf_;
  while (limit > 0) {
    error_code ec;
    const size_t n = d.read_some(asio::buffer(buf.data(), std::min(limit, buf.size())), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return true;
    if (ec) {  // EOF, or a read error: the stream has ended
      CloseOutput(stream);
      return false;
    }
    output_.Consume(stream, std::string_view(buf.data(), n));
    limit -= std::min(limit, n);
  }
  return true;
}

void ProcessWorker::CloseOutput(WorkerOutput::Stream stream) {
  bool& open = stream == WorkerOutput::Stream::kStderr ? stderr_open_ : stdout_open_;
  if (!open) return;
  output_.Close(stream);
  open = false;
  MaybeFinish();
}

void ProcessWorker::DrainOutput() {
  for (auto stream : {WorkerOutput::Stream::kStdout, WorkerOutput::Stream::kStderr}) {
    Descriptor& d = stream == WorkerOutput::Stream::kStderr ? stderr_ : stdout_;
    const bool open = stream == WorkerOutput::Stream::kStderr ? stderr_open_ : stdout_open_;
    if (!open || !d.is_open()) continue;
    // What is in the pipe now, and no more: never waits, and a worker
    // writing without pause cannot keep the daemon here.
    int available = 0;
    if (::ioctl(d.native_handle(), FIONREAD, &available) != 0 || available <= 0) continue;
    (void)ReadAvailable(
        stream, std::min(static_cast<size_t>(available), WorkerOptions::kMaxOutputDrainBytes));
  }
}

void ProcessWorker::BeginDying(Status why, DeathCause cause, bool kill_now,
                               std::chrono::milliseconds grace) {
  if (state_ == WorkerState::kDying || state_ == WorkerState::kDead) return;
  // A worker that fails on its own before its Hello failed to start.
  const bool accidental = cause == DeathCause::kCrash || cause == DeathCause::kMalformed;
  death_cause_ = state_ == WorkerState::kStarting && accidental ? DeathCause::kStartFailed : cause;
  state_ = WorkerState::kDying;
  death_reason_ = std::move(why);
  startup_timer_->Disable();
  error_code ignored;
  to_child_.close(ignored);  // EOF tells the worker to exit
  if (kill_now) {
    SendSignal(SIGKILL);
  } else {
    kill_timer_->Enable(grace);
  }
  MaybeFinish();
}

void ProcessWorker::SendSignal(int sig) {
  if (pid_ > 0 && !wait_status_) ::kill(pid_, sig);
}

bool ProcessWorker::Interrupt() {
  if (!options_.interruptible || state_ != WorkerState::kBusy || pid_ <= 0 || wait_status_) {
    return false;
  }
  // Frame ids start at 1 and stay far below 2^32 for a worker's life, so the
  // id fits sival_ptr on every platform the host builds for.
  sigval value{};
  value.sival_ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(inflight_id_));
  if (::sigqueue(pid_, SIGINT, value) != 0) return false;
  inflight_interrupted_ = true;
  return true;
}

void ProcessWorker::Kill(Status why, DeathCause cause) {
  if (state_ == WorkerState::kDying || state_ == WorkerState::kDead) return;
  BeginDying(std::move(why), cause, false, kKillGrace);
  SendSignal(SIGTERM);
}

int64_t ProcessWorker::RssBytes() const {
  if (pid_ <= 0 || wait_status_) return -1;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", pid_);
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * ::sysconf(_SC_PAGESIZE) : -1;
}

void ProcessWorker::Stop(std::chrono::milliseconds grace, DeathCause cause) {
  if (state_ == WorkerState::kDying || state_ == WorkerState::kDead) return;
  BeginDying(Unavailable(cause == DeathCause::kRecycle ? "worker recycled" : "worker stopped"),
             cause, false, 2 * grace);
  term_timer_->Enable(grace);
}

void ProcessWorker::OnReaped(int wait_status) {
  wait_status_ = wait_status;
  kill_timer_->Disable();
  term_timer_->Disable();
  if (state_ != WorkerState::kDying) {
    BeginDying(Unavailable("worker process ended"), DeathCause::kCrash, false);
  }
  // Output written just before exit may still be in the pipes; give the
  // readers a moment to drain them so the stderr tail explains the death.
  if (stdout_open_ || stderr_open_) {
    drain_timer_->Enable(WorkerOptions::kOutputDrainGrace);
  }
  MaybeFinish();
}

CallOutcome ProcessWorker::InflightOutcome() const {
  switch (death_cause_) {
    case DeathCause::kMalformed:
      return CallOutcome::kProtocolError;
    case DeathCause::kTimeout:
    case DeathCause::kRecycle:
    case DeathCause::kStopped:
      return CallOutcome::kAbandoned;  // the daemon ended it on purpose
    case DeathCause::kStartFailed:
    case DeathCause::kCrash:
      break;
  }
  return CallOutcome::kWorkerDied;
}

void ProcessWorker::MaybeFinish() {
  if (wait_status_ && !stdout_open_ && !stderr_open_) Finish();
}

void ProcessWorker::Finish() {
  if (state_ == WorkerState::kDead) return;  // already reported
  state_ = WorkerState::kDead;
  // An unfinished last line (pipes that outlived the drain grace) still
  // belongs in the tail.
  output_.Close(WorkerOutput::Stream::kStdout);
  output_.Close(WorkerOutput::Stream::kStderr);
  output_.ReportSuppressed();
  error_code ignored;
  kill_timer_->Disable();
  drain_timer_->Disable();
  from_child_.close(ignored);
  stdout_.close(ignored);
  stderr_.close(ignored);

  std::string msg = "worker pid " + std::to_string(pid_) + " of model '" + options_.model +
                    "' version " + options_.version + " " + DescribeWaitStatus(*wait_status_);
  if (death_reason_) msg += " (" + death_reason_->message() + ")";
  // The client in flight sees the stderr of the load and of its own request.
  const std::string own_tail = output_.ClientTail(stderr_at_first_request_, inflight_stderr_from_);
  const std::string client_msg = own_tail.empty() ? msg : msg + "; stderr tail:" + own_tail;
  if (const std::string tail = output_.Tail(); !tail.empty()) msg += "; stderr tail:" + tail;
  const bool clean_stop =
      WIFEXITED(*wait_status_) && WEXITSTATUS(*wait_status_) == 0 && !inflight_done_;
  if (inflight_done_) {
    LogWarn("worker died", {{"model", options_.model},
                            {"version", options_.version},
                            {"pid", pid_},
                            {"request_id", inflight_request_id_},
                            {"error", msg}});
  } else {
    Log(clean_stop ? LogLevel::kInfo : LogLevel::kWarn, "worker exited",
        {{"model", options_.model}, {"version", options_.version}, {"pid", pid_}, {"detail", msg}});
  }
  if (inflight_done_) {
    WorkerDone done = std::move(inflight_done_);
    inflight_done_ = nullptr;
    done(Unavailable("request " + inflight_request_id_ + ": " + client_msg), InflightOutcome());
  }
  listener_->OnWorkerDead(*this, Unavailable(msg), death_cause_);
}

}  // namespace modelgate
