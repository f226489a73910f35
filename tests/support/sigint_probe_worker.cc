// sigint_probe_worker: a stand-in for the native worker host in
// ProcessWorker's unit tests. It says Hello on fd 4, then for each Infer on
// fd 3 waits (at most argv[1] ms, default 10000) for a SIGINT and answers an
// Error frame for that request naming what arrived:
//   "interrupted: code=queue value=<sival_ptr as an integer>"   (sigqueue)
//   "interrupted: code=<si_code> value=0"                       (kill(2) etc.)
//   "no interrupt"                                               (timed out)
// SIGINT stays blocked throughout, so it is only ever taken by sigtimedwait:
// the process never dies of it. Exits 0 at EOF on fd 3.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "backend/ipc/frame_codec.h"

namespace {

bool WriteFrame(const modelgate::worker::v1::Frame& frame) {
  std::string bytes;
  if (!modelgate::EncodeFrame(frame, &bytes).ok()) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(4, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string WaitForInterrupt(const sigset_t& set, long wait_ms) {
  const timespec timeout{.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000};
  siginfo_t info{};
  int sig = -1;
  do {
    sig = ::sigtimedwait(&set, &info, &timeout);
  } while (sig < 0 && errno == EINTR);
  if (sig != SIGINT) return "no interrupt";
  const auto value = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(info.si_value.sival_ptr));
  return "interrupted: code=" +
         (info.si_code == SI_QUEUE ? std::string("queue") : std::to_string(info.si_code)) +
         " value=" + std::to_string(info.si_code == SI_QUEUE ? value : 0);
}

}  // namespace

int main(int argc, char** argv) {
  const long wait_ms = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 10000;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return 3;

  modelgate::worker::v1::Frame hello;
  hello.mutable_hello()->set_protocol_version(1);
  hello.mutable_hello()->set_runtime("sigint-probe");
  if (!WriteFrame(hello)) return 2;

  modelgate::FrameDecoder decoder;
  modelgate::worker::v1::Frame frame;
  char chunk[4096];
  for (;;) {
    modelgate::Status error;
    const auto next = decoder.Next(&frame, &error);
    if (next == modelgate::FrameDecoder::Result::kError) return 2;
    if (next == modelgate::FrameDecoder::Result::kNeedMore) {
      const ssize_t n = ::read(3, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n == 0 ? 0 : 2;
      decoder.Append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (frame.body_case() != modelgate::worker::v1::Frame::kInfer) continue;
    modelgate::worker::v1::Frame reply;
    reply.set_id(frame.id());
    reply.mutable_error()->set_message(WaitForInterrupt(set, wait_ms));
    if (!WriteFrame(reply)) return 2;
  }
}
