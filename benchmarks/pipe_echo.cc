#include "pipe_echo.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>

#include "backend/ipc/frame_codec.h"
#include "backend/process/subprocess.h"
#include "backend/process/tensor_proto.h"
#include "support/test_env.h"

namespace modelgate::bench {
namespace {

constexpr int kFromParent = 3;
constexpr int kToParent = 4;

bool ReadExactly(int fd, char* p, size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, p, n);
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t put = ::write(fd, p, n);
    if (put <= 0) return false;
    p += put;
    n -= static_cast<size_t>(put);
  }
  return true;
}

}  // namespace

int RunPipeEchoChild(double busy_us) {
  const auto busy = std::chrono::duration<double, std::micro>(busy_us);
  std::string frame;
  for (;;) {
    char header[kFrameHeaderBytes];
    if (!ReadExactly(kFromParent, header, sizeof header)) return 0;  // EOF: the parent is done
    uint32_t len = 0;
    for (size_t i = 0; i < kFrameHeaderBytes; ++i) {
      len |= static_cast<uint32_t>(static_cast<unsigned char>(header[i])) << (8 * i);
    }
    if (len > kMaxFrameBytes) return 2;  // the same limit as the codec, checked before allocating
    frame.assign(header, sizeof header);
    frame.resize(sizeof header + len);
    if (!ReadExactly(kFromParent, frame.data() + sizeof header, len)) return 3;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < busy) {
    }
    if (!WriteAll(kToParent, frame.data(), frame.size())) return 4;
  }
}

StatusOr<std::vector<double>> TimePipeEcho(boost::asio::io_context& io, const std::string& self_exe,
                                           const std::vector<Tensor>& inputs, int n,
                                           double busy_us) {
  SpawnOptions spawn;
  spawn.argv = {self_exe, "--echo-child", std::to_string(busy_us)};
  spawn.env = {"PATH=/usr/bin:/bin"};
  auto child = Spawn(spawn);
  if (!child.ok()) return child.status();
  for (int fd : {child->child_stdout, child->child_stderr}) ::close(fd);
  boost::asio::posix::stream_descriptor to(io, child->frames_to_child);
  boost::asio::posix::stream_descriptor from(io, child->frames_from_child);

  std::vector<double> us;
  us.reserve(static_cast<size_t>(n));
  FrameDecoder decoder;
  std::array<char, 64 * 1024> buf;
  Status failure;
  for (int i = 0; i < n + 50 && failure.ok(); ++i) {  // the first 50 warm up
    const auto t0 = std::chrono::steady_clock::now();
    // What ProcessWorker::Infer does before the write: tensors into a frame.
    worker::v1::Frame frame;
    frame.set_id(static_cast<uint64_t>(i) + 1);
    for (Tensor t : inputs) MoveToProto(std::move(t), frame.mutable_infer()->add_inputs());
    std::string bytes;
    failure = EncodeFrame(frame, &bytes);
    if (!failure.ok()) break;
    bool answered = false;
    boost::asio::async_write(to, boost::asio::buffer(bytes),
                             [&](boost::system::error_code ec, size_t) {
                               if (ec)
                                 failure = Internal("pipe echo: write failed: " + ec.message());
                             });
    std::function<void()> read = [&] {
      from.async_read_some(boost::asio::buffer(buf), [&](boost::system::error_code ec, size_t got) {
        if (ec) {
          failure = Internal("pipe echo: read failed: " + ec.message());
          return;
        }
        decoder.Append(buf.data(), got);
        worker::v1::Frame echoed;
        Status error;
        switch (decoder.Next(&echoed, &error)) {
          case FrameDecoder::Result::kFrame:
            // What the worker side's answer costs the daemon: tensors out.
            for (auto& t : *echoed.mutable_infer()->mutable_inputs()) {
              auto out = MoveFromProto(std::move(t));
              if (!out.ok()) failure = out.status();
            }
            answered = true;
            return;
          case FrameDecoder::Result::kNeedMore:
            read();
            return;
          case FrameDecoder::Result::kError:
            failure = error;
            return;
        }
      });
    };
    read();
    testing::RunUntil(
        io, [&] { return answered || !failure.ok(); }, std::chrono::seconds(10));
    if (!answered && failure.ok()) failure = Internal("pipe echo: no answer within 10 s");
    if (i >= 50) {
      us.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  to.close();  // EOF: the child exits
  from.close();
  int wait_status = 0;
  ::waitpid(child->pid, &wait_status, 0);
  if (!failure.ok()) return failure;
  return us;
}

}  // namespace modelgate::bench
