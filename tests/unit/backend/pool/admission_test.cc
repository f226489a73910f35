// Admission: the order of its checks, each reason's status, and that a
// rejection never keeps a breaker permit.
#include "backend/pool/admission.h"

#include <gtest/gtest.h>

#include "common/retry_after.h"
#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() {
    config_.name = "m";
    config_.max_queue_size = 2;
    config_.circuit_breaker.minimum_calls = 1;
    config_.circuit_breaker.window_size = 1;
    config_.circuit_breaker.open_duration = 10s;
    config_.circuit_breaker.half_open_calls = 1;
  }
  Admission::Query Room() {
    Admission::Query q;
    q.now = time_.Now();
    q.request_id = "r";
    q.any_alive = true;
    return q;
  }
  void OpenBreaker(Admission& a) {
    ASSERT_TRUE(a.breaker().TryAcquire());
    a.breaker().OnFailure();
    ASSERT_EQ(a.breaker().state(), CircuitBreaker::State::kOpen);
  }

  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  ModelConfig config_;
};

TEST_F(AdmissionTest, AdmitsWithRoomAndRejectsAFullQueueWith429) {
  Admission a(config_, "model 'm' version 1", time_);
  EXPECT_TRUE(a.Admit(Room()).admitted());
  auto q = Room();
  q.queued = 2;
  auto v = a.Admit(q);
  ASSERT_FALSE(v.admitted());
  EXPECT_EQ(*v.reject, RejectReason::kQueueFull);
  EXPECT_EQ(v.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(v.status.retry_after_seconds(), kRetryAfterSeconds);
  q.runs_at_once = true;  // an idle worker takes it: the bound does not apply
  EXPECT_TRUE(a.Admit(q).admitted());
}

TEST_F(AdmissionTest, ChecksRunInOrderStoppingLoadErrorDeadlineBreaker) {
  Admission a(config_, "model 'm' version 1", time_);
  OpenBreaker(a);
  auto q = Room();
  q.any_alive = false;
  q.load_error = "no such file";
  q.deadline = time_.Now();
  q.queued = 5;
  a.Stop("unloaded");
  EXPECT_EQ(*a.Admit(q).reject, RejectReason::kStopping);
  a.Resume();
  auto v = a.Admit(q);
  EXPECT_EQ(*v.reject, RejectReason::kLoadError);
  EXPECT_NE(v.status.message().find("no such file"), std::string::npos);
  q.any_alive = true;  // a load error matters only with no live worker
  EXPECT_EQ(*a.Admit(q).reject, RejectReason::kDeadline);
  q.deadline.reset();
  v = a.Admit(q);
  EXPECT_EQ(*v.reject, RejectReason::kBreakerOpen);
  EXPECT_EQ(v.status.retry_after_seconds(), 10);
}

TEST_F(AdmissionTest, ARejectionAfterTheBreakerGivesItsProbePermitBack) {
  config_.rate_limit_rps = 1;
  config_.rate_limit_burst = 1;
  Admission a(config_, "model 'm' version 1", time_);
  OpenBreaker(a);
  time_.Advance(10s);  // half-open: one probe permit
  auto full = Room();
  full.queued = 2;
  EXPECT_EQ(*a.Admit(full).reject, RejectReason::kQueueFull);  // takes a token, then gives back
  EXPECT_EQ(*a.Admit(Room()).reject, RejectReason::kRateLimited);
  time_.Advance(1s);                        // a token again
  EXPECT_TRUE(a.Admit(Room()).admitted());  // the one permit was still there
  time_.Advance(1s);
  EXPECT_EQ(*a.Admit(Room()).reject, RejectReason::kBreakerOpen);  // it is now taken
}

}  // namespace
}  // namespace modelgate
