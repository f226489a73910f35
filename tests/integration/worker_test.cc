// The process layer against real Rscript and Python workers.
#include <signal.h>

#include <gtest/gtest.h>

#include <sstream>

#include "support/worker_harness.h"

namespace modelgate::testing {
namespace {

// Whitespace-separated numbers printed by a reference command.
std::vector<double> Numbers(const std::string& text) {
  std::vector<double> v;
  std::istringstream in(text);
  double d;
  while (in >> d) v.push_back(d);
  return v;
}

TEST(WorkerIntegrationTest, RGlmAnswers1000RoundTripsLikeRItself) {
  // R's own answers for every mtcars row: wt hp prob, one row per line.
  const auto ref = Numbers(
      RunCommand("Rscript -e 'fit <- readRDS(\"" + ExampleModelDir("mtcars_am") +
                 "/model.rds\"); p <- predict(fit, newdata = mtcars, type = \"response\"); "
                 "write.table(cbind(mtcars$wt, mtcars$hp, sprintf(\"%.17g\", p)), quote = FALSE, "
                 "row.names = FALSE, col.names = FALSE)'"));
  ASSERT_EQ(ref.size(), 32u * 3);
  WorkerHarness h;
  auto w = h.Start(Backend::kR, ExampleModelDir("mtcars_am"), /*dataframe=*/true);
  ASSERT_EQ(w->state(), WorkerState::kReady) << h.last_death.message();
  for (int i = 0; i < 1000; ++i) {
    const size_t row = i % 32;
    std::vector<Tensor> in;
    in.push_back(Fp64("wt", {1}, {ref[3 * row]}));
    in.push_back(Fp64("hp", {1}, {ref[3 * row + 1]}));
    auto out = h.Infer(*w, std::move(in));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), 1u);
    EXPECT_EQ(out->at(0).name, "prob");
    EXPECT_EQ(out->at(0).shape, std::vector<int64_t>{1});
    ASSERT_NEAR(AsDoubles(out->at(0))[0], ref[3 * row + 2], 1e-12) << "row " << row;
  }
  EXPECT_EQ(w->requests_served(), 1000u);
}

TEST(WorkerIntegrationTest, PythonSklearnAnswers1000RoundTripsLikeSklearnItself) {
  // sklearn's own answers for every iris row: 4 features, label, 3 probabilities.
  const auto ref =
      Numbers(RunCommand(TestPython() +
                         " -c 'import pickle, numpy as np; from sklearn.datasets import load_iris\n"
                         "m = pickle.load(open(\"" +
                         ExampleModelDir("iris_species") +
                         "/model.pkl\", \"rb\")); X = load_iris().data\n"
                         "for x, l, p in zip(X, m.predict(X), m.predict_proba(X)): "
                         "print(*map(repr, [*x, float(l), *p]))'"));
  ASSERT_EQ(ref.size(), 150u * 8);
  WorkerHarness h;
  auto w = h.Start(Backend::kPython, ExampleModelDir("iris_species"));
  ASSERT_EQ(w->state(), WorkerState::kReady) << h.last_death.message();
  for (int i = 0; i < 1000; ++i) {
    const double* r = &ref[8 * (i % 150)];
    std::vector<Tensor> in;
    in.push_back(Fp64("features", {1, 4}, {r[0], r[1], r[2], r[3]}));
    auto out = h.Infer(*w, std::move(in));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(out->size(), 2u);
    EXPECT_EQ(out->at(0).name, "label");
    ASSERT_EQ(out->at(0).datatype, DataType::kInt64);
    int64_t label;
    std::memcpy(&label, out->at(0).raw.data(), 8);
    EXPECT_EQ(label, static_cast<int64_t>(r[4]));
    EXPECT_EQ(out->at(1).shape, (std::vector<int64_t>{1, 3}));
    auto p = AsDoubles(out->at(1));
    for (int k = 0; k < 3; ++k) ASSERT_NEAR(p[k], r[5 + k], 1e-12);
  }
}

TEST(WorkerIntegrationTest, DescribeComputesSummaryStatistics) {
  WorkerHarness h;
  auto w = h.Start(Backend::kR, ExampleModelDir("describe"));
  ASSERT_EQ(w->state(), WorkerState::kReady) << h.last_death.message();
  std::vector<Tensor> in;
  in.push_back(Fp64("x", {5}, {1, 2, 3, 4, 10}));
  auto out = h.Infer(*w, std::move(in));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::map<std::string, double> got;
  for (const auto& t : *out) {
    if (t.datatype == DataType::kFp64) got[t.name] = AsDoubles(t)[0];
  }
  EXPECT_DOUBLE_EQ(got["mean"], 4.0);
  EXPECT_DOUBLE_EQ(got["median"], 3.0);
  EXPECT_DOUBLE_EQ(got["max"], 10.0);
  EXPECT_NEAR(got["sd"], 3.5355339059327378, 1e-12);
  // Fewer than 2 values: the model flags the input as invalid.
  std::vector<Tensor> one;
  one.push_back(Fp64("x", {1}, {1}));
  auto bad = h.Infer(*w, std::move(one));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "x needs at least 2 values");
}

class NoisyModelTest : public ::testing::TestWithParam<Backend> {};

TEST_P(NoisyModelTest, PrintingModelDoesNotCorruptFraming) {
  WorkerHarness h;
  const bool r = GetParam() == Backend::kR;
  auto w = h.Start(GetParam(), TestModelDir(r ? "noisy_r" : "noisy_py"));
  ASSERT_EQ(w->state(), WorkerState::kReady) << h.last_death.message();
  for (int i = 0; i < 200; ++i) {
    std::vector<Tensor> in;
    in.push_back(Fp64("x", {2}, {double(i), 0.5}));
    auto out = h.Infer(*w, std::move(in));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    auto y = AsDoubles(out->at(0));
    ASSERT_EQ(y.size(), 2u);
    EXPECT_EQ(y[0], 2.0 * i);
    EXPECT_EQ(y[1], 1.0);
  }
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, NoisyModelTest, ::testing::Values(Backend::kR, Backend::kPython),
                         [](const auto& info) {
                           return info.param == Backend::kR ? "R" : "Python";
                         });

class LoadFailureTest : public ::testing::TestWithParam<Backend> {};

TEST_P(LoadFailureTest, ReportsTheReasonAndExitsNonZero) {
  WorkerHarness h;
  const bool r = GetParam() == Backend::kR;
  auto w = h.Start(GetParam(), TestModelDir(r ? "load_fail_r" : "load_fail_py"));
  ASSERT_EQ(h.dead_events, 1);
  EXPECT_TRUE(h.died_before_ready);
  const std::string& m = h.last_death.message();
  EXPECT_NE(m.find("model load failed"), std::string::npos) << m;
  EXPECT_NE(m.find("artifact missing"), std::string::npos) << m;
  EXPECT_NE(m.find(r ? "weights.rds" : "weights.pkl"), std::string::npos) << m;
  EXPECT_NE(m.find("exited with code 1"), std::string::npos) << m;
}

INSTANTIATE_TEST_SUITE_P(Runtimes, LoadFailureTest,
                         ::testing::Values(Backend::kR, Backend::kPython), [](const auto& info) {
                           return info.param == Backend::kR ? "R" : "Python";
                         });

class KilledWorkerTest : public ::testing::TestWithParam<Backend> {};

TEST_P(KilledWorkerTest, SigkillOfBusyWorkerFailsItsRequestWithSignalAndStderr) {
  WorkerHarness h;
  const bool r = GetParam() == Backend::kR;
  auto w = h.Start(GetParam(), TestModelDir(r ? "slow_r" : "slow_py"));
  ASSERT_EQ(w->state(), WorkerState::kReady) << h.last_death.message();
  std::optional<StatusOr<std::vector<Tensor>>> got;
  std::vector<Tensor> in;
  in.push_back(Fp64("seconds", {1}, {30}));
  w->Infer(std::move(in), Parameters{}, "req-kill-1",
           [&](StatusOr<std::vector<Tensor>> res, CallOutcome) { got.emplace(std::move(res)); });
  RunUntil(
      h.io, [] { return false; }, std::chrono::milliseconds(300));  // let it start
  ASSERT_EQ(w->state(), WorkerState::kBusy);
  ASSERT_EQ(::kill(w->pid(), SIGKILL), 0);
  // Answered long before the model's 30 s sleep would have ended.
  ASSERT_TRUE(RunUntil(
      h.io, [&] { return got.has_value(); }, std::chrono::seconds(10)));
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->status().code(), StatusCode::kUnavailable);
  const std::string& m = got->status().message();
  EXPECT_NE(m.find("req-kill-1"), std::string::npos) << m;
  EXPECT_NE(m.find("killed by signal 9"), std::string::npos) << m;
  EXPECT_NE(m.find("loaded and waiting for work"), std::string::npos) << m;  // stderr tail
  EXPECT_EQ(h.dead_events, 1);
  EXPECT_EQ(w->state(), WorkerState::kDead);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, KilledWorkerTest,
                         ::testing::Values(Backend::kR, Backend::kPython), [](const auto& info) {
                           return info.param == Backend::kR ? "R" : "Python";
                         });

}  // namespace
}  // namespace modelgate::testing
