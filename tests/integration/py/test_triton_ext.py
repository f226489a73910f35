"""Triton's model configuration, statistics and streaming extensions, and the
extensions modelgate leaves out, against the real daemon with real R
(mtcars_am) and Python (iris_species, iris_batched, slow_py) workers, over
REST (hand-built requests) and gRPC (stubs from proto/grpc_predict_v2.proto,
whose messages and field numbers are Triton's grpc_service.proto's)."""

import json
import queue
import threading
import unittest

import grpc

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, request, scrape, value, wait_for

D = None
STUB = None
EXTENSIONS = ["model_repository", "binary_tensor_data", "model_configuration", "statistics",
              "parameters"]


def setUpModule():
    global D, STUB
    # explicit: the load test below reloads a model with Triton's config.
    D = Daemon(make_repository(examples=("mtcars_am", "iris_species"),
                               test_models=("iris_batched", "slow_py")),
               extra_args=("--model-control-mode", "explicit"))
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()


def mtcars_body(rows):
    return {"inputs": [
        {"name": "wt", "datatype": "FP64", "shape": [len(rows)], "data": [r[0] for r in rows]},
        {"name": "hp", "datatype": "FP64", "shape": [len(rows)], "data": [r[1] for r in rows]}]}


def iris_grpc(request_id, model="iris_species", datatype="FP64"):
    r = pb.ModelInferRequest(model_name=model, id=request_id)
    t = r.inputs.add(name="features", datatype=datatype, shape=[1, 4])
    t.contents.fp64_contents.extend([5.1, 3.5, 1.4, 0.2])
    return r


def rest_stats(model, version=None):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/stats"
    status, _, body = request("GET", D.base + path)
    assert status == 200, body
    (entry,) = [s for s in body["model_stats"] if s["name"] == model]
    return entry


def grpc_stats(model):
    r = STUB.ModelStatistics(pb.ModelStatisticsRequest(name=model), timeout=30)
    (entry,) = list(r.model_stats)
    return entry


class ServerMetadataTest(unittest.TestCase):
    def test_extensions_list_exactly_what_works_on_both_protocols(self):
        status, _, body = request("GET", D.base + "/v2")
        self.assertEqual(status, 200)
        self.assertEqual(body["extensions"], EXTENSIONS)
        meta = STUB.ServerMetadata(pb.ServerMetadataRequest(), timeout=30)
        self.assertEqual(list(meta.extensions), EXTENSIONS)


class ModelConfigTest(unittest.TestCase):
    def test_r_model_config_over_rest_and_grpc(self):
        status, _, c = request("GET", D.base + "/v2/models/mtcars_am/config")
        self.assertEqual(status, 200, c)
        self.assertEqual(c["name"], "mtcars_am")
        self.assertEqual(c["backend"], "r")
        # Opportunistic batching (max_queue_delay_us 0): dims leave out the batch.
        self.assertEqual(c["max_batch_size"], 64)
        self.assertEqual([(i["name"], i["data_type"], i.get("dims", [])) for i in c["input"]],
                         [("wt", "TYPE_FP64", []), ("hp", "TYPE_FP64", [])])
        self.assertEqual(c["output"][0]["name"], "prob")
        self.assertEqual(c["instance_group"][0]["count"], 2)
        self.assertEqual(c["version_policy"], {"latest": {"num_versions": 1}})
        self.assertEqual(int(c["dynamic_batching"].get("max_queue_delay_microseconds", 0)), 0)
        g = STUB.ModelConfig(pb.ModelConfigRequest(name="mtcars_am", version="1"), timeout=30)
        self.assertEqual(g.config.backend, "r")
        self.assertEqual(g.config.max_batch_size, 64)
        self.assertEqual([list(i.dims) for i in g.config.input], [[], []])
        self.assertEqual(g.config.input[0].data_type, pb.TYPE_FP64)
        self.assertEqual(g.config.instance_group[0].count, 2)

    def test_python_batching_model_config_leaves_out_the_batch_dimension(self):
        status, _, c = request("GET", D.base + "/v2/models/iris_batched/versions/1/config")
        self.assertEqual(status, 200, c)
        self.assertEqual(c["backend"], "python")
        self.assertEqual(c["max_batch_size"], 64)
        self.assertEqual(c["input"][0]["dims"], [4])
        self.assertEqual({o["name"]: o["dims"] for o in c["output"]},
                         {"label": [], "probabilities": [3]})
        self.assertEqual(c["output"][0]["data_type"], "TYPE_INT64")
        self.assertEqual(c["dynamic_batching"]["max_queue_delay_microseconds"], 2000)
        g = STUB.ModelConfig(pb.ModelConfigRequest(name="iris_batched"), timeout=30)
        self.assertEqual(g.config.max_batch_size, 64)
        self.assertEqual(g.config.dynamic_batching.max_queue_delay_microseconds, 2000)
        self.assertEqual(list(g.config.input[0].dims), [4])

    def test_a_load_takes_tritons_config_as_get_config_answers_it(self):
        """tritonclient's load_model(config=json.dumps(cfg)) with the config
        this daemon answered, edited: it applies; a bad field is named."""
        url = D.base + "/v2/models/iris_batched"
        status, _, c = request("GET", url + "/config")
        self.assertEqual(status, 200, c)
        c["dynamic_batching"]["max_queue_delay_microseconds"] = 3000
        c["instance_group"][0]["count"] = 2
        try:
            status, _, body = request("POST", D.base + "/v2/repository/models/iris_batched/load",
                                      {"parameters": {"config": json.dumps(c)}})
            self.assertEqual(status, 200, body)
            status, _, after = request("GET", url + "/config")
            self.assertEqual(after["dynamic_batching"]["max_queue_delay_microseconds"], 3000)
            self.assertEqual(after["instance_group"][0]["count"], 2)
            self.assertEqual(after["input"], c["input"])
            self.assertEqual(after["output"], c["output"])
            status, _, body = request("POST", url + "/infer", {"inputs": [
                {"name": "features", "datatype": "FP64", "shape": [1, 4],
                 "data": [5.1, 3.5, 1.4, 0.2]}]})
            self.assertEqual(status, 200, body)

            c["input"][0]["data_type"] = "TYPE_FOO"
            status, _, body = request("POST", D.base + "/v2/repository/models/iris_batched/load",
                                      {"parameters": {"config": json.dumps(c)}})
            self.assertEqual(status, 400, body)
            self.assertIn("input[0].data_type: 'TYPE_FOO' is not a Triton data type",
                          body["error"])
        finally:
            # Back to the repository's own config.json.
            status, _, body = request("POST", D.base + "/v2/repository/models/iris_batched/load")
            self.assertEqual(status, 200, body)

    def test_unknown_model_or_version(self):
        status, _, body = request("GET", D.base + "/v2/models/nope/config")
        self.assertEqual(status, 404)
        self.assertIn("nope", body["error"])
        status, _, body = request("GET", D.base + "/v2/models/mtcars_am/versions/9/config")
        self.assertEqual(status, 404)
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelConfig(pb.ModelConfigRequest(name="nope"), timeout=30)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)


class StatisticsTest(unittest.TestCase):
    def check_moves_by_exactly(self, model, send, ok, failed):
        before = rest_stats(model)
        before_metric = sum(value(scrape(D), "modelgate_requests_total", model=model, version="1",
                                  protocol=p, code="OK") for p in ("http", "grpc"))
        send()
        after = rest_stats(model, version="1")
        g = grpc_stats(model)
        delta = lambda k, f: after["inference_stats"][k][f] - before["inference_stats"][k][f]
        self.assertEqual(delta("success", "count"), ok)
        self.assertEqual(delta("fail", "count"), failed)
        self.assertEqual(after["inference_count"] - before["inference_count"], ok)
        self.assertEqual(after["execution_count"] - before["execution_count"], ok)
        self.assertEqual(delta("queue", "count"), ok)
        self.assertEqual(delta("compute_infer", "count"), ok)
        self.assertGreater(delta("success", "ns"), 0)
        self.assertGreaterEqual(after["last_inference"], before["last_inference"])
        self.assertGreater(after["last_inference"], 0)
        self.assertEqual(after["version"], "1")
        self.assertEqual(after["inference_stats"]["cache_hit"], {"count": 0, "ns": 0})
        # Without dynamic batching every worker call serves one request.
        singles = lambda st: sum(b["compute_infer"]["count"] for b in st["batch_stats"]
                                 if b["batch_size"] == 1)
        self.assertEqual(singles(after) - singles(before), ok)
        self.assertEqual({b["batch_size"] for b in after["batch_stats"]}, {1})
        # gRPC answers the same counts; /metrics moved by the same number.
        self.assertEqual(g.inference_stats.success.count, after["inference_stats"]["success"]["count"])
        self.assertEqual(g.inference_stats.fail.count, after["inference_stats"]["fail"]["count"])
        self.assertEqual(g.execution_count, after["execution_count"])
        after_metric = sum(value(scrape(D), "modelgate_requests_total", model=model, version="1",
                                 protocol=p, code="OK") for p in ("http", "grpc"))
        self.assertEqual(after_metric - before_metric, ok)

    def test_r_model_counts_move_by_exactly_the_requests_sent(self):
        def send():
            for rows in ([(2.62, 110.0)], [(3.2, 150.0), (1.5, 60.0)], [(2.0, 90.0)]):
                status, _, body = request("POST", D.base + "/v2/models/mtcars_am/infer",
                                          mtcars_body(rows))
                self.assertEqual(status, 200, body)
            r = pb.ModelInferRequest(model_name="mtcars_am")
            r.inputs.add(name="wt", datatype="FP64", shape=[1]).contents.fp64_contents.append(2.5)
            r.inputs.add(name="hp", datatype="FP64", shape=[1]).contents.fp64_contents.append(100)
            STUB.ModelInfer(r, timeout=60)
            bad = mtcars_body([(2.0, 90.0)])
            bad["inputs"][0]["datatype"] = "INT32"
            status, _, _ = request("POST", D.base + "/v2/models/mtcars_am/infer", bad)
            self.assertEqual(status, 400)
        self.check_moves_by_exactly("mtcars_am", send, ok=4, failed=1)

    def test_python_model_counts_move_by_exactly_the_requests_sent(self):
        def send():
            for i in range(3):
                STUB.ModelInfer(iris_grpc(f"s{i}"), timeout=60)
            with self.assertRaises(grpc.RpcError):
                STUB.ModelInfer(iris_grpc("bad", datatype="FP32"), timeout=60)
        self.check_moves_by_exactly("iris_species", send, ok=3, failed=1)

    def test_all_models_and_unknown_model(self):
        status, _, body = request("GET", D.base + "/v2/models/stats")
        self.assertEqual(status, 200, body)
        names = {(s["name"], s["version"]) for s in body["model_stats"]}
        self.assertTrue({("mtcars_am", "1"), ("iris_species", "1"), ("iris_batched", "1"),
                         ("slow_py", "1")} <= names, names)
        everything = STUB.ModelStatistics(pb.ModelStatisticsRequest(), timeout=30)
        self.assertEqual({(s.name, s.version) for s in everything.model_stats}, names)
        status, _, body = request("GET", D.base + "/v2/models/nope/stats")
        self.assertEqual(status, 404)
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelStatistics(pb.ModelStatisticsRequest(name="nope"), timeout=30)
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)


class StreamInferTest(unittest.TestCase):
    def test_each_request_gets_one_answer_with_its_id_and_bad_ones_keep_the_stream_open(self):
        requests = [iris_grpc("ok-1"), iris_grpc("unknown", model="nope"), iris_grpc("ok-2"),
                    iris_grpc("bad-type", datatype="FP32"), iris_grpc("ok-3")]
        mtcars = pb.ModelInferRequest(model_name="mtcars_am", id="r-1")
        mtcars.inputs.add(name="wt", datatype="FP64", shape=[1]).contents.fp64_contents.append(2.6)
        mtcars.inputs.add(name="hp", datatype="FP64", shape=[1]).contents.fp64_contents.append(110)
        requests.append(mtcars)
        answers = {}
        for r in STUB.ModelStreamInfer(iter(requests), timeout=120):
            self.assertNotIn(r.infer_response.id, answers)
            answers[r.infer_response.id] = r
        self.assertEqual(set(answers), {"ok-1", "unknown", "ok-2", "bad-type", "ok-3", "r-1"})
        for i in ("ok-1", "ok-2", "ok-3"):
            self.assertEqual(answers[i].error_message, "")
            labels = [o for o in answers[i].infer_response.outputs if o.name == "label"]
            self.assertEqual(list(labels[0].contents.int64_contents), [0])  # setosa
        self.assertIn("NOT_FOUND", answers["unknown"].error_message)
        self.assertIn("nope", answers["unknown"].error_message)
        self.assertIn("INVALID_ARGUMENT", answers["bad-type"].error_message)
        self.assertEqual(answers["r-1"].error_message, "")
        self.assertEqual(answers["r-1"].infer_response.model_name, "mtcars_am")
        prob = answers["r-1"].infer_response.outputs[0]
        self.assertEqual(prob.name, "prob")

    def test_a_cancelled_stream_withdraws_its_pending_requests(self):
        cancelled = lambda: value(scrape(D), "modelgate_requests_total", model="slow_py",
                                  version="1", protocol="grpc", code="CANCELLED")
        before = cancelled()
        release = threading.Event()

        def slow(request_id, seconds):
            r = pb.ModelInferRequest(model_name="slow_py", id=request_id)
            r.inputs.add(name="seconds", datatype="FP64", shape=[1]).contents.fp64_contents.append(
                seconds)
            return r

        def requests():
            yield slow("running", 3.0)  # occupies the only worker
            yield slow("queued", 0.0)   # waits behind it
            release.wait(30)

        call = STUB.ModelStreamInfer(requests(), timeout=60)
        got = queue.Queue()
        reader = threading.Thread(target=lambda: [got.put(r) for r in _drain(call)])
        reader.start()
        self.assertTrue(wait_for(lambda: D.metric("modelgate_queue_depth", model="slow_py",
                                                  version="1") == 1, timeout=20))
        call.cancel()
        release.set()
        reader.join(30)
        self.assertFalse(reader.is_alive())
        self.assertEqual(call.code(), grpc.StatusCode.CANCELLED)
        self.assertTrue(got.empty())
        # The queued one was withdrawn (answered CANCELLED, never run) ...
        self.assertTrue(wait_for(lambda: cancelled() - before >= 1, timeout=20))
        self.assertEqual(D.metric("modelgate_queue_depth", model="slow_py", version="1"), 0)
        # ... and the model and the daemon keep serving.
        answer = STUB.ModelInfer(slow("after", 0.0), timeout=60)
        self.assertEqual(answer.id, "after")


def _drain(call):
    try:
        yield from call
    except grpc.RpcError:
        return


class UnsupportedTest(unittest.TestCase):
    def test_rest_routes_answer_404_saying_not_supported(self):
        for method, path in (("GET", "/v2/systemsharedmemory/status"),
                             ("POST", "/v2/systemsharedmemory/region/r/register"),
                             ("POST", "/v2/cudasharedmemory/region/r/unregister"),
                             ("GET", "/v2/trace/setting"),
                             ("POST", "/v2/models/mtcars_am/trace/setting"),
                             ("GET", "/v2/logging")):
            status, _, body = request(method, D.base + path, b"{}" if method == "POST" else None)
            self.assertEqual(status, 404, path)
            self.assertIn("does not support", body["error"], path)

    def test_grpc_rpcs_answer_unimplemented_saying_not_supported(self):
        for rpc, what in (("SystemSharedMemoryStatus", "system shared memory"),
                          ("SystemSharedMemoryRegister", "system shared memory"),
                          ("SystemSharedMemoryUnregister", "system shared memory"),
                          ("CudaSharedMemoryStatus", "CUDA shared memory"),
                          ("CudaSharedMemoryRegister", "CUDA shared memory"),
                          ("CudaSharedMemoryUnregister", "CUDA shared memory"),
                          ("TraceSetting", "trace settings"),
                          ("LogSettings", "log settings")):
            req = getattr(pb, rpc + "Request")()
            with self.assertRaises(grpc.RpcError) as e:
                getattr(STUB, rpc)(req, timeout=30)
            self.assertEqual(e.exception.code(), grpc.StatusCode.UNIMPLEMENTED, rpc)
            self.assertIn("modelgate does not support " + what, e.exception.details(), rpc)


if __name__ == "__main__":
    unittest.main()
