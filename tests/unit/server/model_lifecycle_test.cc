// InferenceCore's model lifecycle on a real repository directory with fake
// workers: swap-and-drain, rollback of a failed load, shared concurrent
// loads, unload, control mode none, and a request that the switch must not
// fail. The test thread runs the io context; scans and snapshots run on the
// core's file thread and post back, so each step runs the io context until
// its condition holds (bounded).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "server/inference_core.h"
#include "support/fake_worker.h"

namespace modelgate {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using testing::FakeWorker;

constexpr auto kStepBound = std::chrono::seconds(10);

class ModelLifecycleTest : public ::testing::Test {
 protected:
  ModelLifecycleTest() {
    root_ = fs::temp_directory_path() /
            ("modelgate-lifecycle-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_ / "repo" / "m" / "1");
    Write("repo/m/config.json",
          R"({"backend": "python", "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1]}]})");
    Write("repo/m/1/model.py", "CODE = 1\n");
  }
  ~ModelLifecycleTest() override {
    core_.reset();
    fs::remove_all(root_);
  }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel) << text;
  }

  void StartCore(ControlMode mode = ControlMode::kExplicit) {
    LifecycleOptions o;
    o.mode = mode;
    o.repository = (root_ / "repo").string();
    o.snapshot_root = (root_ / "snapshots").string();
    o.worker_factory = [this](const WorkerOptions& options, Worker::Listener* listener) {
      auto w = std::make_shared<FakeWorker>(io_, listener, ++pids_);
      w->auto_hello = auto_hello_;
      w->reported_signature = signature_;
      workers_.push_back(w);
      if (fail_next_start_) {
        fail_next_start_ = false;
        // Dies before its Hello, as a model whose load raised.
        asio::post(io_, [w] {
          w->Die(Internal("model raised in __init__: boom"), DeathCause::kStartFailed);
        });
      }
      fingerprints_.push_back(options.fingerprint);
      return w;
    };
    auto scanned = ScanRepository(o.repository);
    ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
    for (auto& entry : *scanned) ASSERT_TRUE(SnapshotEntry(entry, o.snapshot_root).ok());
    core_ = std::make_unique<InferenceCore>(io_, RuntimeSettings{}, std::move(scanned).value(),
                                            nullptr, std::move(o));
    core_->Start();
    RunUntil([&] { return core_->ServerReady(); });
  }

  // Runs the io context until `cond` holds; fails the test past kStepBound.
  template <typename Cond>
  void RunUntil(Cond cond) {
    const auto end = std::chrono::steady_clock::now() + kStepBound;
    while (!cond() && std::chrono::steady_clock::now() < end) {
      io_.restart();
      io_.run_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(cond()) << "condition not reached";
  }

  Status Load(std::optional<std::string> config = std::nullopt) {
    std::optional<Status> result;
    core_->LoadModel("m", std::move(config), [&](Status s) { result = s; });
    RunUntil([&] { return result.has_value(); });
    return result.value_or(Internal("no answer"));
  }

  std::string Fingerprint() {
    auto t = core_->Find("m", "");
    return t.ok() ? t->fingerprint : "";
  }

  InferRequest Request() {
    InferRequest r;
    r.model = "m";
    Tensor x;
    x.name = "x";
    x.datatype = DataType::kFp32;
    x.shape = {1};
    const float v = 1;
    x.raw.assign(reinterpret_cast<const char*>(&v), sizeof v);
    r.inputs.push_back(std::move(x));
    return r;
  }

  size_t LiveWorkers() {
    size_t n = 0;
    for (const auto& w : workers_) {
      if (w->state() != WorkerState::kDead) ++n;
    }
    return n;
  }

  fs::path root_;
  asio::io_context io_;
  std::unique_ptr<InferenceCore> core_;
  std::vector<std::shared_ptr<FakeWorker>> workers_;
  std::vector<std::string> fingerprints_;
  int pids_ = 100;
  bool fail_next_start_ = false;
  bool auto_hello_ = true;
  std::shared_ptr<const ModelSignature> signature_;  // what new workers report
};

TEST_F(ModelLifecycleTest, ASignatureFromCodeBecomesTheMetadataAtTheFirstHello) {
  Write("repo/m/config.json", R"({"backend": "python", "required": false})");
  TensorSpec x{"x", DataType::kFp32, {-1}};
  TensorSpec color{"color", DataType::kBytes, {-1}};
  color.levels = {"red", "blue"};
  signature_ = std::make_shared<ModelSignature>(
      ModelSignature{{x, color}, {}, true, "the prototype DataFrame in model.py"});
  auto_hello_ = false;
  StartCore();  // no Hello yet
  auto before = core_->Find("m", "");
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->config->inputs.empty());
  std::optional<StatusOr<InferResponse>> early;
  core_->Infer(Request(), [&](StatusOr<InferResponse> r) { early = std::move(r); });
  RunUntil([&] { return early.has_value(); });
  EXPECT_EQ(early->status().code(), StatusCode::kUnavailable);
  EXPECT_NE(early->status().message().find("declares its inputs in code"), std::string::npos);

  workers_[0]->Hello();
  RunUntil([&] {
    auto t = core_->Find("m", "");
    return t.ok() && core_->ModelReady(*t);
  });
  auto after = core_->Find("m", "");
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->config->inputs.size(), 2u);
  EXPECT_EQ(after->config->inputs[1].levels, (std::vector<std::string>{"red", "blue"}));
  EXPECT_TRUE(after->config->dataframe);

  InferRequest bad = Request();
  Tensor c;
  c.name = "color";
  c.datatype = DataType::kBytes;
  c.shape = {1};
  c.strings = {"green"};
  bad.inputs.push_back(std::move(c));
  std::optional<StatusOr<InferResponse>> answer;
  core_->Infer(std::move(bad), [&](StatusOr<InferResponse> r) { answer = std::move(r); });
  RunUntil([&] { return answer.has_value(); });
  EXPECT_EQ(answer->status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(answer->status().message(),
            "input 'color': value 'green' is not one of its levels: red, blue");
  EXPECT_FALSE(workers_[0]->busy());  // never reached the worker
}

TEST_F(ModelLifecycleTest, ALoadOfChangedCodeSwitchesToANewFingerprintAndDrainsTheOld) {
  StartCore();
  const std::string before = Fingerprint();
  ASSERT_FALSE(before.empty());
  EXPECT_TRUE(Load().ok());  // nothing changed: same workers
  EXPECT_EQ(Fingerprint(), before);
  EXPECT_EQ(workers_.size(), 1u);

  Write("repo/m/1/model.py", "CODE = 2\n");
  ASSERT_TRUE(Load().ok());
  const std::string after = Fingerprint();
  EXPECT_NE(after, before);
  EXPECT_EQ(fingerprints_.back(), after);  // the new worker was told its fingerprint
  RunUntil([&] { return LiveWorkers() == 1; });
  EXPECT_EQ(workers_[0]->state(), WorkerState::kDead);
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStopped);
}

TEST_F(ModelLifecycleTest, AFailedLoadLeavesThePreviousVersionServing) {
  StartCore();
  const std::string before = Fingerprint();
  Write("repo/m/1/model.py", "raise RuntimeError('boom')\n");
  fail_next_start_ = true;
  Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("boom"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("version 1"), std::string::npos) << s.message();
  EXPECT_EQ(Fingerprint(), before);
  EXPECT_TRUE(core_->ServerReady());
  EXPECT_NE(workers_[0]->state(), WorkerState::kDead);
}

TEST_F(ModelLifecycleTest, ABadConfigParameterIsRefusedAndChangesNothing) {
  StartCore();
  const std::string before = Fingerprint();
  Status s = Load(std::string("{not json"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(Fingerprint(), before);
  EXPECT_EQ(workers_.size(), 1u);
}

TEST_F(ModelLifecycleTest, ConcurrentLoadsShareOneSetOfWorkersAndOneOutcome) {
  StartCore();
  Write("repo/m/1/model.py", "CODE = 3\n");
  std::vector<Status> answers;
  for (int i = 0; i < 3; ++i) {
    core_->LoadModel("m", std::nullopt, [&](Status s) { answers.push_back(s); });
  }
  RunUntil([&] { return answers.size() == 3; });
  for (const auto& s : answers) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(workers_.size(), 2u);  // the first, and one for the new content
}

TEST_F(ModelLifecycleTest, ARequestRunningDuringTheSwitchIsAnsweredByItsOwnVersion) {
  StartCore();
  std::optional<StatusOr<InferResponse>> answer;
  core_->Infer(Request(), [&](StatusOr<InferResponse> r) { answer = std::move(r); });
  RunUntil([&] { return workers_[0]->busy(); });

  Write("repo/m/1/model.py", "CODE = 4\n");
  ASSERT_TRUE(Load().ok());
  EXPECT_FALSE(answer.has_value());
  EXPECT_NE(workers_[0]->state(), WorkerState::kDead);  // draining, not killed
  workers_[0]->Complete(std::vector<Tensor>{});
  RunUntil([&] { return answer.has_value() && LiveWorkers() == 1; });
  ASSERT_TRUE(answer->ok()) << answer->status().ToString();
  EXPECT_EQ(workers_[0]->killed_with, DeathCause::kStopped);
}

TEST_F(ModelLifecycleTest, UnloadStopsRoutingAndNoLongerCountsForReadiness) {
  StartCore();
  std::optional<Status> unloaded;
  core_->UnloadModel("m", [&](Status s) { unloaded = s; });
  RunUntil([&] { return unloaded.has_value(); });
  EXPECT_TRUE(unloaded->ok());
  EXPECT_EQ(LiveWorkers(), 0u);
  auto found = core_->Find("m", "");
  EXPECT_EQ(found.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(found.status().message().find("unloaded"), std::string::npos);
  EXPECT_TRUE(core_->ServerReady());
  auto index = core_->Index();
  ASSERT_EQ(index.size(), 1u);
  EXPECT_EQ(index[0].state, ModelState::kUnloaded);

  ASSERT_TRUE(Load().ok());
  EXPECT_TRUE(core_->Find("m", "").ok());
  EXPECT_EQ(LiveWorkers(), 1u);
}

TEST_F(ModelLifecycleTest, AnUnloadDuringALoadWinsAndTheLoadSaysSo) {
  fs::create_directories(root_ / "repo" / "m" / "2");
  Write("repo/m/2/model.py", "CODE = 2\n");
  Write("repo/m/config.json",
        R"({"backend": "python", "version_policy": {"all": {}},
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1]}]})");
  StartCore();
  ASSERT_EQ(workers_.size(), 2u);
  Write("repo/m/2/model.py", "CODE = 22\n");  // version 1 unchanged, 2 changed
  auto_hello_ = false;                        // the new version 2 stays loading
  std::optional<Status> loaded, unloaded;
  core_->LoadModel("m", std::nullopt, [&](Status s) { loaded = s; });
  RunUntil([&] { return workers_.size() == 3u; });
  core_->UnloadModel("m", [&](Status s) { unloaded = s; });
  RunUntil([&] { return loaded.has_value() && unloaded.has_value(); });
  EXPECT_EQ(loaded->code(), StatusCode::kUnavailable);
  EXPECT_NE(loaded->message().find("unloaded while it loaded"), std::string::npos);
  EXPECT_TRUE(unloaded->ok());
  RunUntil([&] { return LiveWorkers() == 0; });
  EXPECT_EQ(core_->Find("m", "1").status().code(), StatusCode::kUnavailable);
  // Loading again serves both versions.
  auto_hello_ = true;
  ASSERT_TRUE(Load().ok());
  EXPECT_TRUE(core_->Find("m", "1").ok());
  EXPECT_TRUE(core_->Find("m", "2").ok());
  EXPECT_EQ(LiveWorkers(), 2u);
}

TEST_F(ModelLifecycleTest, ALoadArrivingDuringALoadGetsAScanOfItsOwn) {
  StartCore();
  Write("repo/m/1/model.py", "CODE = 5\n");
  std::optional<Status> first, second;
  core_->LoadModel("m", std::nullopt, [&](Status s) { first = s; });
  // A bad config parameter is judged on its own, not by the running load.
  core_->LoadModel("m", std::string("{not json"), [&](Status s) { second = s; });
  RunUntil([&] { return first.has_value() && second.has_value(); });
  EXPECT_TRUE(first->ok()) << first->ToString();
  EXPECT_EQ(second->code(), StatusCode::kInvalidArgument) << second->ToString();
  EXPECT_EQ(workers_.size(), 2u);
}

TEST_F(ModelLifecycleTest, ControlModeNoneRefusesLoadAndUnloadNamingTheFlag) {
  StartCore(ControlMode::kNone);
  Status s = Load();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--model-control-mode"), std::string::npos);
  std::optional<Status> unloaded;
  core_->UnloadModel("m", [&](Status st) { unloaded = st; });
  RunUntil([&] { return unloaded.has_value(); });
  EXPECT_EQ(unloaded->code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelLifecycleTest, ANameThatIsNotOneDirectoryIsRefused) {
  StartCore();
  for (const std::string& name : std::vector<std::string>{"..", "../etc", "a/b", ".hidden", "",
                                                          "a\x01"
                                                          "b",
                                                          std::string(300, 'a')}) {
    std::optional<Status> result;
    core_->LoadModel(name, std::nullopt, [&](Status s) { result = s; });
    RunUntil([&] { return result.has_value(); });
    EXPECT_EQ(result->code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST_F(ModelLifecycleTest, TrafficWeightsSplitAndARouteKeySticks) {
  fs::create_directories(root_ / "repo" / "m" / "2");
  Write("repo/m/2/model.py", "CODE = 2\n");
  Write("repo/m/config.json",
        R"({"backend": "python", "version_policy": {"all": {}}, "traffic": {"1": 0, "2": 100},
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1]}]})");
  StartCore();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(core_->Find("m", "")->version, 2);
  EXPECT_EQ(core_->Find("m", "1")->version, 1);  // explicit versions still route

  // A weight change restarts no worker.
  Write("repo/m/config.json",
        R"({"backend": "python", "version_policy": {"all": {}}, "traffic": {"1": 50, "2": 50},
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1]}]})");
  const size_t before = workers_.size();
  ASSERT_TRUE(Load().ok());
  EXPECT_EQ(workers_.size(), before);
  std::map<int64_t, int> seen;
  for (int i = 0; i < 200; ++i) ++seen[core_->Find("m", "")->version];
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[2], 0);
  for (int k = 0; k < 20; ++k) {
    const std::string key = "user" + std::to_string(k);
    const int64_t v = core_->Find("m", "", key)->version;
    for (int i = 0; i < 5; ++i) EXPECT_EQ(core_->Find("m", "", key)->version, v);
  }
}

}  // namespace
}  // namespace modelgate
