// ProcessWorker: a Worker backed by an R or Python subprocess speaking
// modelgate.worker.v1 frames on its fds 3 and 4 (see include/modelgate/worker.h
// for the state machine and the ownership contract).
//
// All I/O is asynchronous on one io_context (posix::stream_descriptor); its
// stdout and stderr go to a WorkerOutput (logged line by line, the stderr
// tail kept) and explain a death: the whole tail in the log, and to the
// client whose request was in flight only the lines written while loading
// and since that request was sent.
//
// Each output line carries the id(s) of the request in flight when the
// worker wrote it, exactly: the runtimes flush stdout and stderr before they
// write an answer frame, so when the answer is read every byte the request
// printed is already in the pipes; the worker drains them (up to what
// FIONREAD reports) before it clears the id, and drains them again before it
// sends the next request. Output of the worker's own background threads
// written between requests is attributed by when it is read.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "backend/ipc/frame_codec.h"
#include "backend/process/child_reaper.h"
#include "backend/process/subprocess.h"
#include "backend/process/worker_output.h"
#include "modelgate/time_source.h"
#include "modelgate/worker.h"

namespace modelgate {

struct WorkerOptions {
  std::string model;        // for logs and error messages
  std::string version;      // for logs and error messages
  std::string fingerprint;  // of the version's content, for the start log line
  SpawnOptions spawn;
  // config.json's signature (source: the config file), merged with the one
  // the Hello declares (hello_signature.h); `code_file` names model.R or
  // model.py in the error when neither declares inputs. Nullopt (a worker
  // started outside a model repository: tests, tools): the Hello's own.
  std::optional<ModelSignature> declared;
  std::string code_file;
  std::chrono::milliseconds startup_timeout{60000};
  // The process is modelgate-worker, whose SIGINT handler interrupts the
  // request named by sigqueue()'s value; another program (a model's own
  // "interpreter") might die of SIGINT, so Interrupt() sends it nothing.
  bool interruptible = false;
  // How long after the frame pipe closes before an unexiting process is killed.
  std::chrono::milliseconds exit_grace{2000};
  // Output already in a stdout/stderr pipe when a request is sent or
  // answered, read at once so each line counts for the right request (and
  // for the right part of the stderr tail). Linux's pipe-max-size default:
  // a worker cannot make its pipes hold more without privileges.
  static constexpr size_t kMaxOutputDrainBytes = 1024 * 1024;
  // Output read per readiness wake-up before waiting again (fairness
  // between workers on one io thread).
  static constexpr size_t kMaxOutputReadPerWake = 64 * 1024;
  // After the process is reaped, how long its output pipes may still drain
  // (so the stderr tail explains the death) before the worker reports it.
  static constexpr std::chrono::milliseconds kOutputDrainGrace{300};
};

class ProcessWorker final : public Worker, public std::enable_shared_from_this<ProcessWorker> {
 public:
  // `time` runs the startup timeout and the kill graces; it must outlive
  // the worker.
  ProcessWorker(boost::asio::io_context& io, ChildReaper& reaper, TimeSource& time,
                WorkerOptions options, Listener* listener);
  ~ProcessWorker() override;

  void Start() override;
  WorkerState state() const override { return state_; }
  int pid() const override { return pid_; }
  uint64_t requests_served() const override { return served_; }
  void Infer(std::vector<Tensor> inputs, const Parameters& parameters, std::string request_id,
             WorkerDone done) override;
  // SIGINT by sigqueue() with the frame id of the call in flight (the host
  // ignores an id that is not the one it runs, so a late signal never stops
  // the next call). Its Error answer is then the daemon's doing (kAbandoned).
  bool Interrupt() override;
  void Kill(Status why, DeathCause cause) override;
  void Stop(std::chrono::milliseconds grace, DeathCause cause) override;
  int64_t RssBytes() const override;

  // What the worker said in its Hello (runtime and version); empty before.
  const std::string& runtime_description() const { return runtime_; }
  std::shared_ptr<const ModelSignature> signature() const override { return signature_; }

 private:
  using Descriptor = boost::asio::posix::stream_descriptor;

  void ReadFrames();
  void HandleFrame(worker::v1::Frame& frame);
  // Waits for output on `stream` and consumes it. The pipes are read only
  // here and in DrainOutput, never ahead by Asio (async_wait, not
  // async_read_some): no output can sit read but unconsumed when a request
  // starts or ends.
  void ReadLines(WorkerOutput::Stream stream);
  // Consumes, without waiting, up to `limit` bytes from `stream`'s pipe; false
  // at EOF or on a read error (the stream is then closed).
  bool ReadAvailable(WorkerOutput::Stream stream, size_t limit);
  // `stream` reached EOF or failed: its last line is logged, and the worker
  // finishes once both streams ended and the process is reaped.
  void CloseOutput(WorkerOutput::Stream stream);
  // Consumes what is in the stdout and stderr pipes now (FIONREAD).
  void DrainOutput();
  void Write(std::string bytes);
  void DoWrite();
  // kill_now: SIGKILL at once; else SIGKILL after `grace` if still alive.
  void BeginDying(Status why, DeathCause cause, bool kill_now,
                  std::chrono::milliseconds grace = std::chrono::milliseconds(0));
  void SendSignal(int sig);
  void OnReaped(int wait_status);
  // What a request in flight when the process ended should report.
  CallOutcome InflightOutcome() const;
  void MaybeFinish();
  void Finish();

  boost::asio::io_context& io_;
  ChildReaper& reaper_;
  WorkerOptions options_;
  Listener* listener_;

  WorkerState state_ = WorkerState::kStarting;
  int pid_ = -1;
  uint64_t served_ = 0;
  uint64_t next_frame_id_ = 1;
  std::string runtime_;
  std::shared_ptr<const ModelSignature> signature_;  // set at the Hello

  Descriptor to_child_;
  Descriptor from_child_;
  Descriptor stdout_;
  Descriptor stderr_;
  // Owned timers: their callbacks capture `this` (a Timer never fires after
  // its destruction).
  TimerPtr startup_timer_;  // no Hello in time: kill
  TimerPtr kill_timer_;     // SIGKILL after the grace
  TimerPtr term_timer_;     // SIGTERM after a graceful stop's grace
  TimerPtr drain_timer_;    // reaped: stop waiting for the output pipes

  FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buf_;
  std::deque<std::string> write_queue_;
  bool writing_ = false;

  std::array<char, 4096> stdout_buf_;
  std::array<char, 4096> stderr_buf_;
  WorkerOutput output_;
  bool stdout_open_ = true;
  bool stderr_open_ = true;

  // The request in flight, if any.
  uint64_t inflight_id_ = 0;
  std::string inflight_request_id_;
  WorkerDone inflight_done_;
  bool inflight_interrupted_ = false;                // Interrupt() signalled this call
  uint64_t inflight_stderr_from_ = 0;                // output_.stderr_lines() when it was sent
  std::optional<uint64_t> stderr_at_first_request_;  // lines before it: the load's

  std::optional<Status> death_reason_;
  DeathCause death_cause_ = DeathCause::kCrash;
  std::optional<int> wait_status_;
};

}  // namespace modelgate
