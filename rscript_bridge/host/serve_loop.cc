#include "serve_loop.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backend/ipc/frame_codec.h"
#include "common/limits.h"

namespace modelgate::worker_host {
namespace {

namespace wv1 = worker::v1;

// The request Infer is running, 0 when none: read by the signal handler.
std::atomic<uint64_t> g_running_id{0};
Runtime* g_runtime = nullptr;
static_assert(std::atomic<uint64_t>::is_always_lock_free);

void OnInterrupt(int, siginfo_t* info, void*) {
  // Only the daemon's sigqueue() names a request; a terminal's Ctrl-C
  // (SI_KERNEL/SI_USER) is left to the daemon's orderly shutdown.
  if (info == nullptr || info->si_code != SI_QUEUE) return;
  const auto id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(info->si_value.sival_ptr));
  const uint64_t running = g_running_id.load(std::memory_order_acquire);
  if (id != 0 && id == running && g_runtime != nullptr) g_runtime->Interrupt();
}

void InstallInterruptHandler(Runtime* runtime) {
  g_runtime = runtime;
  struct sigaction action {};
  action.sa_sigaction = OnInterrupt;
  // No SA_RESTART: a model blocked in recv() or read() must see EINTR, as
  // under Python's own handler, or the interrupt waits for the kill. The
  // host's own reads and writes retry on EINTR (and run with SIGINT blocked).
  action.sa_flags = SA_SIGINFO;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
}

// Holds SIGINT while the host works between requests.
class BlockInterrupts {
 public:
  BlockInterrupts() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, &saved_);
  }
  ~BlockInterrupts() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  BlockInterrupts(const BlockInterrupts&) = delete;
  BlockInterrupts& operator=(const BlockInterrupts&) = delete;

 private:
  sigset_t saved_;
};

uint32_t FrameLimit() {
  const char* value = std::getenv(kMaxFrameBytesEnv);
  if (value == nullptr) return kMaxFrameBytes;
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || n == 0 || n > UINT32_MAX) {
    std::fprintf(stderr, "modelgate worker: %s='%.32s' is not a frame size in bytes\n",
                 kMaxFrameBytesEnv, value);
    std::exit(64);
  }
  return static_cast<uint32_t>(n);
}

class FrameWriter {
 public:
  FrameWriter(Runtime& runtime, int fd, uint32_t limit)
      : runtime_(runtime), fd_(fd), limit_(limit) {}

  // false when the daemon is gone (the host then exits).
  bool Write(wv1::Frame& frame) {
    buffer_.clear();
    Status encoded = EncodeFrame(frame, &buffer_, limit_);
    if (!encoded.ok()) {
      // An answer over the limit becomes an error naming the size, so the
      // request still gets its one answer.
      const uint64_t id = frame.id();
      frame.Clear();
      frame.set_id(id);
      frame.mutable_error()->set_message("the answer is too large: " + encoded.message());
      buffer_.clear();
      if (!EncodeFrame(frame, &buffer_, limit_).ok()) return false;
    }
    // What the model printed for this request reaches the output pipes
    // before its answer: the daemon tags those lines with the request's id.
    runtime_.FlushOutput();
    std::fflush(nullptr);
    size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  Runtime& runtime_;
  int fd_;
  uint32_t limit_;
  std::string buffer_;
};

}  // namespace

int Serve(Runtime& runtime, const HostOptions& options, int fd_in, int fd_out) {
  const uint32_t limit = FrameLimit();
  FrameWriter writer(runtime, fd_out, limit);
  BlockInterrupts blocked;  // the host's own work is never interrupted

  // Hello and Error are one oneof in a Frame: each is filled on its own.
  wv1::Hello loaded;
  wv1::Error failed;
  wv1::Frame hello;
  hello.set_id(0);
  if (!runtime.Load(options, &loaded, &failed)) {
    if (failed.message().empty()) failed.set_message("model load failed");
    *hello.mutable_error() = std::move(failed);
    writer.Write(hello);
    return 1;
  }
  wv1::Hello* h = hello.mutable_hello();
  *h = std::move(loaded);
  h->set_protocol_version(1);
  h->set_pid(static_cast<int32_t>(::getpid()));
  h->set_model_dir(options.model_dir);
  if (!writer.Write(hello)) return 2;
  // After Load: an interpreter's initialisation must not replace it.
  InstallInterruptHandler(&runtime);

  FrameDecoder decoder(limit);
  std::string chunk(64 * 1024, '\0');
  wv1::Frame frame;
  for (;;) {
    Status error;
    const FrameDecoder::Result next = decoder.Next(&frame, &error);
    if (next == FrameDecoder::Result::kError) {
      std::fprintf(stderr, "modelgate worker: %s\n", error.message().c_str());
      return 2;
    }
    if (next == FrameDecoder::Result::kNeedMore) {
      const ssize_t n = ::read(fd_in, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        std::fprintf(stderr, "modelgate worker: reading frames: %s\n", std::strerror(errno));
        return 2;
      }
      if (n == 0) {
        if (decoder.pending_bytes() == 0) return 0;
        std::fprintf(stderr, "modelgate worker: truncated frame at end of input\n");
        return 2;
      }
      decoder.Append(chunk.data(), static_cast<size_t>(n));
      continue;
    }
    wv1::Frame reply;
    reply.set_id(frame.id());
    switch (frame.body_case()) {
      case wv1::Frame::kShutdown:
        return 0;
      case wv1::Frame::kPing:
        reply.mutable_pong();
        break;
      case wv1::Frame::kInfer: {
        g_running_id.store(frame.id(), std::memory_order_release);
        {
          // Interrupts are delivered only while the model runs.
          sigset_t set;
          sigemptyset(&set);
          sigaddset(&set, SIGINT);
          pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
          runtime.Infer(frame.mutable_infer(), &reply);
          pthread_sigmask(SIG_BLOCK, &set, nullptr);
        }
        g_running_id.store(0, std::memory_order_release);
        runtime.ClearInterrupt();
        break;
      }
      default:
        reply.mutable_error()->set_message("unexpected frame kind " +
                                           std::to_string(static_cast<int>(frame.body_case())));
        break;
    }
    if (!writer.Write(reply)) return 2;
  }
}

}  // namespace modelgate::worker_host
