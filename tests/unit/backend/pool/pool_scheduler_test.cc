// PoolScheduler on simulated time: FIFO service, queued-deadline expiry at
// the deadline (re-armed when the earliest is cancelled), and a batch's wait
// bounded by the head's max_queue_delay_us.
#include "backend/pool/pool_scheduler.h"

#include <gtest/gtest.h>

#include "support/simulated_time_source.h"

namespace modelgate {
namespace {

using namespace std::chrono_literals;

class PoolSchedulerTest : public ::testing::Test {
 protected:
  void Make() {
    scheduler_ = std::make_unique<PoolScheduler>(
        config_, time_,
        PoolScheduler::Hooks{
            .expired = [this](const CallPtr& c) { expired_.push_back(c->request.request_id); },
            .batch_due = [this] { ++batch_due_; }});
  }
  CallPtr Push(const std::string& id, std::optional<SteadyTime> deadline = std::nullopt,
               int64_t rows = 1, Parameters parameters = {}) {
    auto call = std::make_shared<Call>();
    call->ticket = next_ticket_++;
    call->request.request_id = id;
    call->request.parameters = std::move(parameters);
    call->request.deadline = deadline;
    call->admitted = time_.Now();
    Tensor x;
    x.name = "x";
    x.datatype = DataType::kFp64;
    x.shape = {rows};
    x.raw.assign(8 * rows, '\0');
    call->request.inputs.push_back(std::move(x));
    call->rows = rows;
    scheduler_->Push(call);
    return call;
  }
  std::vector<std::string> Ids(const Batch& b) {
    std::vector<std::string> ids;
    for (const auto& c : b) ids.push_back(c->request.request_id);
    return ids;
  }

  boost::asio::io_context io_;
  testing::SimulatedTimeSource time_{io_};
  ModelConfig config_;
  std::unique_ptr<PoolScheduler> scheduler_;
  std::vector<std::string> expired_;
  int batch_due_ = 0;
  uint64_t next_ticket_ = 1;
};

TEST_F(PoolSchedulerTest, ServesInFifoOrderAndExpiresQueuedCallsAtTheirDeadline) {
  Make();
  Push("a");
  auto b = Push("b", time_.Now() + 30ms);
  Push("c", time_.Now() + 10ms);
  Push("d");
  time_.Advance(9ms);
  EXPECT_TRUE(expired_.empty());
  time_.Advance(1ms);
  EXPECT_EQ(expired_, std::vector<std::string>{"c"});
  // Cancelling the earliest remaining deadline re-arms for none.
  EXPECT_EQ(scheduler_->Remove(b->ticket), b);
  time_.Advance(1h);
  EXPECT_EQ(expired_, std::vector<std::string>{"c"});
  EXPECT_EQ(Ids(scheduler_->NextBatch()), std::vector<std::string>{"a"});
  EXPECT_EQ(Ids(scheduler_->NextBatch()), std::vector<std::string>{"d"});
  EXPECT_TRUE(scheduler_->empty());
  EXPECT_EQ(time_.pending_timers(), 0u);
}

TEST_F(PoolSchedulerTest, APartialBatchWaitsUntilTheHeadsDelayBoundThenGoes) {
  config_.max_batch_size = 4;
  config_.max_queue_delay_us = 2000;
  Make();
  Push("a", std::nullopt, 1);
  time_.Advance(1ms);
  Push("b", std::nullopt, 2);
  EXPECT_TRUE(scheduler_->NextBatch().empty());  // 3 of 4 rows: worth waiting
  time_.Advance(999us);
  EXPECT_EQ(batch_due_, 0);
  time_.Advance(1us);  // 2 ms after "a" was admitted
  EXPECT_EQ(batch_due_, 1);
  EXPECT_EQ(Ids(scheduler_->NextBatch()), (std::vector<std::string>{"a", "b"}));
}

TEST_F(PoolSchedulerTest, AFullBatchGoesAtOnceAndTheNextRequestLeadsTheNextBatch) {
  config_.max_batch_size = 3;
  config_.max_queue_delay_us = 1000000;
  Make();
  Push("a", std::nullopt, 2);
  Push("b", std::nullopt, 1);
  Push("c", std::nullopt, 1);
  EXPECT_EQ(Ids(scheduler_->NextBatch()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(scheduler_->size(), 1u);
  EXPECT_TRUE(scheduler_->NextBatch().empty());  // "c" alone waits for company
  EXPECT_EQ(scheduler_->TakeAll().size(), 1u);
  time_.Advance(1h);
  EXPECT_EQ(batch_due_, 0);  // taking everything ended the wait
}

TEST_F(PoolSchedulerTest, ZeroDelayTakesWhatIsQueuedAndNeverWaits) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 0;
  Make();
  Push("alone");
  // A lone request goes at once: no batch timer, no wait for company.
  EXPECT_EQ(Ids(scheduler_->NextBatch()), std::vector<std::string>{"alone"});
  EXPECT_EQ(time_.pending_timers(), 0u);
  Push("a", std::nullopt, 2);
  Push("b", std::nullopt, 3);
  Push("c", std::nullopt, 1);
  EXPECT_EQ(Ids(scheduler_->NextBatch()), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(time_.pending_timers(), 0u);
  EXPECT_EQ(batch_due_, 0);
}

TEST_F(PoolSchedulerTest, RequestsWithOtherParametersEndTheBatchAndLeadTheNext) {
  config_.max_batch_size = 8;
  config_.max_queue_delay_us = 0;
  Make();
  const Parameters less = {{"alternative", std::string("less")}};
  Push("a", std::nullopt, 1, less);
  Push("b", std::nullopt, 1, less);
  Push("c", std::nullopt, 1, {{"alternative", std::string("greater")}});
  Push("d", std::nullopt, 1, less);
  Push("e", std::nullopt, 1);
  EXPECT_EQ(Ids(scheduler_->NextBatch()), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Ids(scheduler_->NextBatch()), std::vector<std::string>{"c"});
  EXPECT_EQ(Ids(scheduler_->NextBatch()), std::vector<std::string>{"d"});
  EXPECT_EQ(Ids(scheduler_->NextBatch()), std::vector<std::string>{"e"});
  EXPECT_TRUE(scheduler_->empty());
}

}  // namespace
}  // namespace modelgate
