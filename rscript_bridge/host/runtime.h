// The interpreter side of modelgate-worker: one embedded interpreter (R or
// CPython) holding one loaded model version. The host (serve_loop.h) owns
// the frame stream on fds 3/4 and calls a Runtime on its main thread only;
// the interpreter never sees a frame, only tensors converted in C++.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "worker.pb.h"

namespace modelgate::worker_host {

// What the daemon's command line tells the host (see main.cc).
struct HostOptions {
  std::string runtime;                   // "r" or "python"
  std::string model_dir;                 // absolute; also the working directory
  bool dataframe = false;                // --dataframe: inputs reach the model as a data frame
  std::vector<std::string> python_path;  // --python-path: extra sys.path entries
  std::vector<std::string> r_libs;       // --r-libs: extra R library paths
};

class Runtime {
 public:
  virtual ~Runtime() = default;

  // Starts the interpreter and loads options.model_dir. true: *hello is
  // filled (runtime, runtime_version, signature, dataframe; the host sets
  // protocol_version, pid and model_dir). false: *error says why ("model
  // load failed: ..." with the traceback) and the host exits non-zero.
  virtual bool Load(const HostOptions& options, worker::v1::Hello* hello,
                    worker::v1::Error* error) = 0;

  // Runs one request and fills exactly one of reply->result or
  // reply->error (the host sets the id). May consume infer's bytes (moves
  // tensor data into the interpreter without a copy). Model errors, invalid
  // input and interrupts are errors, never exceptions or exits.
  virtual void Infer(worker::v1::Infer* infer, worker::v1::Frame* reply) = 0;

  // Called from the SIGINT handler while Infer runs, for that request only:
  // asks the interpreter to stop at its next interrupt check (R's user
  // interrupt, Python's KeyboardInterrupt). Must be async-signal-safe.
  virtual void Interrupt() = 0;

  // Forgets an interrupt that arrived too late to stop Infer, so it cannot
  // hit the next request. Called after Infer returns, signals blocked.
  virtual void ClearInterrupt() = 0;

  // Flushes the interpreter's own output buffers (Python's sys.stdout when
  // a model replaced it); the host flushes C stdio after this.
  virtual void FlushOutput() = 0;
};

std::unique_ptr<Runtime> MakeRRuntime();
std::unique_ptr<Runtime> MakePythonRuntime();

}  // namespace modelgate::worker_host
