// Spawn: the worker pid in the environment, default limits, and dropping to
// an unprivileged user (when the test runs as root).
#include "backend/process/subprocess.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace modelgate {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// {name: "soft hard"} from /proc/<pid>/limits.
std::map<std::string, std::string> Limits(pid_t pid) {
  std::map<std::string, std::string> out;
  std::istringstream lines(ReadFile("/proc/" + std::to_string(pid) + "/limits"));
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream values(line.substr(26));
    std::string soft, hard;
    values >> soft >> hard;
    std::string name = line.substr(0, 26);
    name.erase(name.find_last_not_of(' ') + 1);
    out[name] = soft + " " + hard;
  }
  return out;
}

// A spawned `sleep`, killed and reaped at the end of the test.
class Sleeper {
 public:
  explicit Sleeper(SpawnOptions options) : spawned_(Spawn(options)) {}
  ~Sleeper() {
    if (!spawned_.ok()) return;
    ::kill(spawned_->pid, SIGKILL);
    int ws;
    ::waitpid(spawned_->pid, &ws, 0);
    for (int fd : {spawned_->frames_to_child, spawned_->frames_from_child, spawned_->child_stdout,
                   spawned_->child_stderr}) {
      ::close(fd);
    }
  }
  const StatusOr<Subprocess>& spawned() const { return spawned_; }
  pid_t pid() const { return spawned_->pid; }

 private:
  StatusOr<Subprocess> spawned_;
};

SpawnOptions SleepOptions() {
  SpawnOptions o;
  o.argv = {"/bin/sleep", "30"};
  o.env = {"PATH=/usr/bin:/bin", std::string(kWorkerPidEnv) + "=1"};  // the model's is replaced
  return o;
}

TEST(SubprocessTest, ChildLeadsItsGroupAndKnowsItsWorkerPid) {
  Sleeper s(SleepOptions());
  ASSERT_TRUE(s.spawned().ok()) << s.spawned().status().message();
  EXPECT_EQ(::getpgid(s.pid()), s.pid());
  const std::string env = ReadFile("/proc/" + std::to_string(s.pid()) + "/environ");
  // First, and exactly once.
  const std::string entry = std::string(kWorkerPidEnv) + "=" + std::to_string(s.pid()) + '\0';
  EXPECT_EQ(env.rfind(entry, 0), 0u) << env;
  const std::string replaced = std::string(1, '\0') + kWorkerPidEnv + "=1" + '\0';
  EXPECT_EQ(env.find(replaced), std::string::npos);
  EXPECT_NE(env.find("PATH=/usr/bin:/bin"), std::string::npos);
}

TEST(SubprocessTest, DefaultLimitsAreAppliedAsHardLimits) {
  Sleeper s(SleepOptions());
  ASSERT_TRUE(s.spawned().ok()) << s.spawned().status().message();
  auto limits = Limits(s.pid());
  EXPECT_EQ(limits["Max core file size"], "0 0");
  EXPECT_EQ(limits["Max address space"], "17179869184 17179869184");
  EXPECT_EQ(limits["Max cpu time"], "unlimited unlimited");
  if (::geteuid() == 0) {
    EXPECT_EQ(limits["Max open files"], "4096 4096");
  }
}

TEST(SubprocessTest, ConfiguredLimitsReplaceTheDefaults) {
  SpawnOptions o = SleepOptions();
  o.limits.address_space_bytes = ResourceLimits::kUnlimited;
  o.limits.cpu_seconds = 100;
  o.limits.open_files = 64;
  o.limits.core_bytes = 1 << 20;
  Sleeper s(o);
  ASSERT_TRUE(s.spawned().ok()) << s.spawned().status().message();
  auto limits = Limits(s.pid());
  EXPECT_EQ(limits["Max address space"], "unlimited unlimited");
  EXPECT_EQ(limits["Max cpu time"], "100 100");
  EXPECT_EQ(limits["Max open files"], "64 64");
  EXPECT_EQ(limits["Max core file size"], "1048576 1048576");
}

TEST(SubprocessTest, UnknownWorkerUserIsNamed) {
  auto u = ResolveWorkerUser("no-such-user-modelgate-test");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().code(), StatusCode::kNotFound);
  EXPECT_NE(u.status().message().find("'no-such-user-modelgate-test'"), std::string::npos);
}

class WorkerUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "switching users needs root";
    auto u = ResolveWorkerUser("nobody");
    ASSERT_TRUE(u.ok()) << u.status().message();
    user_ = *u;
  }
  WorkerUser user_;
};

TEST_F(WorkerUserTest, ChildRunsAsTheUserWithoutNewPrivileges) {
  SpawnOptions o = SleepOptions();
  o.user = user_;
  Sleeper s(o);
  ASSERT_TRUE(s.spawned().ok()) << s.spawned().status().message();
  const std::string status = ReadFile("/proc/" + std::to_string(s.pid()) + "/status");
  const std::string uid = std::to_string(user_.uid);
  EXPECT_NE(status.find("Uid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid), std::string::npos)
      << status;
  const std::string gid = std::to_string(user_.gid);
  EXPECT_NE(status.find("Gid:\t" + gid + "\t" + gid + "\t" + gid + "\t" + gid), std::string::npos)
      << status;
  EXPECT_NE(status.find("NoNewPrivs:\t1"), std::string::npos) << status;
  EXPECT_EQ(Limits(s.pid())["Max processes"], "1024 1024");
}

TEST_F(WorkerUserTest, PathTheUserCannotReadIsNamed) {
  char dir[] = "/tmp/modelgate-private-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);  // 0700, root's
  SpawnOptions o = SleepOptions();
  o.user = user_;
  o.must_read = {dir};
  auto spawned = Spawn(o);
  ::rmdir(dir);
  ASSERT_FALSE(spawned.ok());
  const std::string& m = spawned.status().message();
  EXPECT_NE(m.find(std::string("cannot read ") + dir), std::string::npos) << m;
  EXPECT_NE(m.find("'nobody'"), std::string::npos) << m;
  EXPECT_NE(m.find("Permission denied"), std::string::npos) << m;
}

}  // namespace
}  // namespace modelgate
