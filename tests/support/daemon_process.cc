#include "support/daemon_process.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "grpc_predict_v2.grpc.pb.h"
#include "support/test_env.h"

namespace modelgate::testing {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

DaemonProcess::DaemonProcess(const std::string& repository) {
  http_port_ = FreePort();
  grpc_port_ = FreePort();
  metrics_port_ = FreePort();
  char tmpl[] = "/tmp/modelgate-cpp-test-XXXXXX.log";
  int fd = ::mkstemps(tmpl, 4);
  log_path_ = tmpl;
  const std::string binary = BinaryDir() + "/modelgate";
  std::vector<std::string> args = {binary,
                                   "--model-repository",
                                   repository,
                                   "--host",
                                   "127.0.0.1",
                                   "--http-port",
                                   std::to_string(http_port_),
                                   "--grpc-port",
                                   std::to_string(grpc_port_),
                                   "--metrics-port",
                                   std::to_string(metrics_port_)};
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fd);
}

DaemonProcess::~DaemonProcess() {
  Stop();
  ::unlink(log_path_.c_str());
}

bool DaemonProcess::WaitReady(int seconds) {
  auto channel = grpc::CreateChannel(grpc_target(), grpc::InsecureChannelCredentials());
  auto stub = inference::GRPCInferenceService::NewStub(channel);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    inference::ServerReadyResponse resp;
    if (stub->ServerReady(&ctx, {}, &resp).ok() && resp.ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int DaemonProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 600; ++i) {  // 60 s at most
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string DaemonProcess::log() const {
  std::ifstream f(log_path_);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace modelgate::testing
