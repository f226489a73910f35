// InferenceCore's drain notifications, with no worker process: the pools are
// never started, so an admitted request stays queued until Stop() answers it.
// The test thread is the io thread (io.poll() runs what is ready, never waits).
#include "server/inference_core.h"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>

namespace modelgate {
namespace {

namespace asio = boost::asio;

ModelEntry Entry() {
  ModelEntry e;
  e.config.name = "m";
  e.config.backend = Backend::kPython;
  e.config.inputs = {{"x", DataType::kFp32, {-1, 2}}};
  e.versions[1] = VersionEntry{1, "/nonexistent/m/1", e.config, {}, {}, {}};
  return e;
}

InferRequest Request() {
  InferRequest r;
  r.model = "m";
  Tensor x;
  x.name = "x";
  x.datatype = DataType::kFp32;
  x.shape = {1, 2};
  const float values[2] = {1, 2};
  x.raw.assign(reinterpret_cast<const char*>(values), sizeof values);
  r.inputs.push_back(std::move(x));
  return r;
}

TEST(InferenceCoreTest, NotifyWhenIdleWaitsForTheLastRequestInFlight) {
  asio::io_context io;
  InferenceCore core(io, RuntimeSettings{}, {Entry()});
  std::optional<StatusOr<InferResponse>> answer;
  core.Infer(Request(), [&](StatusOr<InferResponse> r) { answer = std::move(r); });
  io.poll();
  ASSERT_EQ(core.inflight(), 1);  // queued: no worker was started
  int idle = 0;
  core.NotifyWhenIdle([&] { ++idle; });
  io.poll();
  EXPECT_EQ(idle, 0);
  EXPECT_FALSE(answer.has_value());

  core.BeginShutdown();
  core.Stop(std::chrono::seconds(1));
  io.poll();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(idle, 1);
  core.NotifyWhenIdle([&] { ++idle; });  // already idle: at once
  io.poll();
  EXPECT_EQ(idle, 2);
}

TEST(InferenceCoreTest, NotifyWhenStoppedWaitsForRequestsTooAndRunsOnce) {
  asio::io_context io;
  InferenceCore core(io, RuntimeSettings{}, {Entry()});
  core.Infer(Request(), [](StatusOr<InferResponse>) {});
  io.poll();
  int stopped = 0;
  core.NotifyWhenStopped([&] { ++stopped; });
  io.poll();
  EXPECT_EQ(stopped, 0);
  core.Stop(std::chrono::seconds(1));
  io.poll();
  EXPECT_EQ(stopped, 1);
  EXPECT_EQ(core.WorkerProcesses(), 0u);
  io.poll();
  EXPECT_EQ(stopped, 1);
}

TEST(InferenceCoreTest, RequestsAfterBeginShutdownAre503AndNeverCountAsInFlight) {
  asio::io_context io;
  InferenceCore core(io, RuntimeSettings{}, {Entry()});
  core.BeginShutdown();
  EXPECT_FALSE(core.ServerReady());
  std::optional<StatusOr<InferResponse>> answer;
  core.Infer(Request(), [&](StatusOr<InferResponse> r) { answer = std::move(r); });
  EXPECT_EQ(core.inflight(), 0);
  io.poll();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(answer->status().retry_after_seconds(), 1);
}

TEST(InferenceCoreTest, FindResolvesTheHighestVersionAndRejectsBadOnes) {
  asio::io_context io;
  ModelEntry e = Entry();
  e.versions[3] = VersionEntry{3, "/nonexistent/m/3", e.config, {}, {}, {}};
  InferenceCore core(io, RuntimeSettings{}, {e});
  auto latest = core.Find("m", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 3);
  EXPECT_EQ(latest->versions, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(latest->config->name, "m");
  EXPECT_EQ(latest->metrics, nullptr);  // no Metrics given
  EXPECT_EQ(core.Find("m", "2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(core.Find("m", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(core.Find("other", "").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(core.ModelReady(*latest));
}

// answer_inline (the gRPC front end): answers that need no worker come from
// inside Infer, on the caller's thread, exactly once; without it they are
// posted. A request that needs a worker is never answered inline.
TEST(InferenceCoreTest, AnswerInlineAnswersRejectionsInsideInferAndQueuesTheRest) {
  asio::io_context io;
  InferenceCore core(io, RuntimeSettings{}, {Entry()});
  auto ask = [&](InferRequest r, bool inline_ok, int* calls, std::optional<Status>* got) {
    r.answer_inline = inline_ok;
    core.Infer(std::move(r), [calls, got](StatusOr<InferResponse> a) {
      ++*calls;
      *got = a.status();
    });
  };
  InferRequest unknown = Request();
  unknown.model = "nosuch";
  InferRequest bad_input = Request();
  bad_input.inputs[0].name = "y";

  int calls = 0;
  std::optional<Status> got;
  ask(unknown, true, &calls, &got);
  EXPECT_EQ(calls, 1);  // before any io.poll()
  EXPECT_EQ(got->code(), StatusCode::kNotFound);
  ask(bad_input, true, &calls, &got);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(got->code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got->message().find("'y'"), std::string::npos) << got->message();

  ask(unknown, false, &calls, &got);
  EXPECT_EQ(calls, 2);  // posted
  io.poll();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(got->code(), StatusCode::kNotFound);

  // Admitted: queued (no worker started), answered only by Stop.
  int queued_calls = 0;
  std::optional<Status> queued;
  ask(Request(), true, &queued_calls, &queued);
  io.poll();
  EXPECT_EQ(queued_calls, 0);
  EXPECT_EQ(core.inflight(), 1);
  core.BeginShutdown();
  ask(Request(), true, &calls, &got);  // shutting down: inline 503
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(got->code(), StatusCode::kUnavailable);
  core.Stop(std::chrono::seconds(1));
  io.poll();
  EXPECT_EQ(queued_calls, 1);
  EXPECT_EQ(queued->code(), StatusCode::kUnavailable);
  EXPECT_EQ(calls, 4);
}

}  // namespace
}  // namespace modelgate
