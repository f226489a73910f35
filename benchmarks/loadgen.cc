// Closed-loop load generator for modelgate: N concurrent callers, each sending
// its next 1-row request as soon as the last one is answered, over gRPC (raw
// tensors) or REST (KServe V2 JSON, keep-alive). Bounded by a request count
// and a duration; prints one line of figures.
//
//   mg_loadgen --protocol grpc|http --port N --model mtcars_am|iris_species|echo_r|echo_py
//              (a name containing iris / echo gets that model's request)
//              [--concurrency 1] [--seconds 10] [--max-requests 100000]
//              [--rpc infer|live]
// --rpc live calls ServerLive / GET /v2/health/live instead: the front end's
// own floor, no model and no thread hop involved.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

#include "grpc_predict_v2.grpc.pb.h"

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string protocol = "grpc";
  std::string host = "127.0.0.1";
  int port = 0;
  std::string model = "mtcars_am";
  int concurrency = 1;
  double seconds = 10;
  long max_requests = 100000;
  std::string rpc = "infer";
};

inference::ModelInferRequest GrpcRequest(const std::string& model) {
  inference::ModelInferRequest r;
  r.set_model_name(model);
  auto add = [&](const char* name, std::vector<int64_t> shape, std::vector<double> v) {
    auto* in = r.add_inputs();
    in->set_name(name);
    in->set_datatype("FP64");
    for (auto d : shape) in->add_shape(d);
    r.add_raw_input_contents(std::string(reinterpret_cast<char*>(v.data()), v.size() * 8));
  };
  if (model.find("iris") != std::string::npos) {  // iris_species and its copies
    add("features", {1, 4}, {5.1, 3.5, 1.4, 0.2});
  } else if (model.find("echo") != std::string::npos) {  // echo_r, echo_py and their copies
    add("x", {1}, {2.62});
  } else {
    add("wt", {1}, {2.62});
    add("hp", {1}, {110});
  }
  return r;
}

std::string JsonBody(const std::string& model) {
  if (model.find("iris") != std::string::npos) {
    return R"({"inputs":[{"name":"features","datatype":"FP64","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}]})";
  }
  if (model.find("echo") != std::string::npos) {
    return R"({"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[2.62]}]})";
  }
  return R"({"inputs":[{"name":"wt","datatype":"FP64","shape":[1],"data":[2.62]},)"
         R"({"name":"hp","datatype":"FP64","shape":[1],"data":[110]}]})";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  namespace po = boost::program_options;
  po::options_description desc("mg_loadgen");
  desc.add_options()("help", "usage")("protocol", po::value(&o.protocol))(
      "host", po::value(&o.host))("port", po::value(&o.port)->required())(
      "model", po::value(&o.model))("concurrency", po::value(&o.concurrency))(
      "seconds", po::value(&o.seconds))("max-requests", po::value(&o.max_requests))(
      "rpc", po::value(&o.rpc));
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (o.rpc != "infer" && o.rpc != "live") {
    std::cerr << "--rpc is infer or live\n";
    return 2;
  }
  if (o.host != "127.0.0.1" && o.host != "::1" && o.host != "localhost") {
    std::cerr << "mg_loadgen only targets loopback\n";
    return 2;
  }

  std::atomic<long> issued{0};
  std::atomic<long> errors{0};
  std::mutex mu;
  std::vector<double> all_us;
  const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  const auto start = Clock::now();
  std::shared_ptr<grpc::Channel> channel;
  if (o.protocol == "grpc") {
    channel = grpc::CreateChannel(o.host + ":" + std::to_string(o.port),
                                  grpc::InsecureChannelCredentials());
  }

  auto caller = [&] {
    std::vector<double> us;
    auto more = [&] { return Clock::now() < end && issued.fetch_add(1) < o.max_requests; };
    if (o.protocol == "grpc") {
      auto stub = inference::GRPCInferenceService::NewStub(channel);
      const auto req = GrpcRequest(o.model);
      while (more()) {
        grpc::ClientContext ctx;
        inference::ModelInferResponse resp;
        inference::ServerLiveRequest live_req;
        inference::ServerLiveResponse live_resp;
        const auto t0 = Clock::now();
        const bool ok = o.rpc == "live" ? stub->ServerLive(&ctx, live_req, &live_resp).ok()
                                        : stub->ModelInfer(&ctx, req, &resp).ok();
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        if (!ok) ++errors;
      }
    } else {
      boost::asio::io_context io;
      beast::tcp_stream stream(io);
      stream.connect(tcp::endpoint(boost::asio::ip::make_address(o.host), o.port));
      stream.socket().set_option(tcp::no_delay(true));
      http::request<http::string_body> req{http::verb::post, "/v2/models/" + o.model + "/infer",
                                           11};
      req.set(http::field::host, o.host);
      if (o.rpc == "live") {
        req.method(http::verb::get);
        req.target("/v2/health/live");
      } else {
        req.set(http::field::content_type, "application/json");
        req.body() = JsonBody(o.model);
      }
      req.prepare_payload();
      beast::flat_buffer buf;
      while (more()) {
        const auto t0 = Clock::now();
        http::write(stream, req);
        http::response<http::string_body> res;
        http::read(stream, buf, res);
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        if (res.result_int() != 200) ++errors;
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    all_us.insert(all_us.end(), us.begin(), us.end());
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < o.concurrency; ++i) threads.emplace_back(caller);
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(all_us.begin(), all_us.end());
  auto pct = [&](double p) {
    return all_us.empty() ? 0.0 : all_us[std::min(all_us.size() - 1, size_t(all_us.size() * p))];
  };
  std::printf(
      "protocol=%s rpc=%s model=%s concurrency=%d requests=%zu errors=%ld rps=%.0f p50_us=%.0f "
      "p90_us=%.0f p99_us=%.0f\n",
      o.protocol.c_str(), o.rpc.c_str(), o.model.c_str(), o.concurrency, all_us.size(),
      errors.load(), all_us.size() / elapsed, pct(0.5), pct(0.9), pct(0.99));
  return errors.load() == 0 ? 0 : 1;
}
