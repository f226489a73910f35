"""The response cache against the real daemon and a real Python worker: a
repeated request is answered from the cache without reaching a worker (the
worker-call count stays put), on REST and gRPC alike; the key covers inputs,
parameters and requested outputs; refusals are never kept; max_entries
evicts; a reload empties it; a model without "response_cache" has no cache
series."""

import unittest

import grpc

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, request, scrape

D = None
STUB = None
MODEL = "cached_py"


def setUpModule():
    global D, STUB
    D = Daemon(make_repository(examples=(), test_models=(MODEL, "picky_py")),
               extra_args=("--model-control-mode", "explicit"))
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()


def infer(x, request_id="r", parameters=None, outputs=None, model=MODEL):
    body = {"id": request_id,
            "inputs": [{"name": "x", "datatype": "FP64", "shape": [len(x)], "data": x}]}
    if parameters:
        body["parameters"] = parameters
    if outputs:
        body["outputs"] = [{"name": o} for o in outputs]
    return request("POST", f"{D.base}/v2/models/{model}/infer", body)


def worker_calls(model=MODEL):
    return D.metric("modelgate_batch_size_count", model=model, version="1")


def cache(kind, model=MODEL):
    return D.metric(f"modelgate_cache_{kind}_total", model=model, version="1")


class ResponseCacheTest(unittest.TestCase):
    def setUp(self):
        # Each test starts from an empty cache: a reload empties it.
        status, _, body = request("POST", f"{D.base}/v2/repository/models/{MODEL}/load")
        self.assertEqual(status, 200, body)

    def test_a_repeat_is_answered_without_a_worker_and_keeps_its_own_id(self):
        status, _, first = infer([1.5, 2.0], request_id="a")
        self.assertEqual(status, 200, first)
        calls, hits, misses = worker_calls(), cache("hits"), cache("misses")
        for i in range(5):
            status, headers, again = infer([1.5, 2.0], request_id=f"b{i}")
            self.assertEqual(status, 200, again)
            self.assertEqual(again["outputs"], first["outputs"])
            self.assertEqual(again["id"], f"b{i}")
            self.assertEqual(again["model_name"], MODEL)
            self.assertEqual(again["model_version"], "1")
        self.assertEqual(worker_calls(), calls)
        self.assertEqual(cache("hits"), hits + 5)
        self.assertEqual(cache("misses"), misses)
        # gRPC reads the same cache (the key is the request's content).
        r = pb.ModelInferRequest(model_name=MODEL, id="g")
        t = r.inputs.add(name="x", datatype="FP64", shape=[2])
        t.contents.fp64_contents.extend([1.5, 2.0])
        reply = STUB.ModelInfer(r, timeout=30)
        self.assertEqual(reply.id, "g")
        self.assertEqual(list(reply.outputs[0].contents.fp64_contents) or
                         list(memoryview(reply.raw_output_contents[0]).cast("d")), [3.0, 4.0])
        self.assertEqual(worker_calls(), calls)
        self.assertEqual(cache("hits"), hits + 6)

    def test_the_key_covers_inputs_parameters_and_requested_outputs(self):
        self.assertEqual(infer([1.0])[0], 200)
        calls = worker_calls()
        status, _, scaled = infer([1.0], parameters={"scale": 10})
        self.assertEqual(status, 200, scaled)
        self.assertEqual(scaled["outputs"][0]["data"], [10.0])
        status, _, other = infer([1.0, 1.0])
        self.assertEqual(other["outputs"][0]["data"], [2.0, 2.0])
        status, _, named = infer([1.0], outputs=["y"])
        self.assertEqual(named["outputs"][0]["data"], [2.0])
        self.assertEqual(worker_calls(), calls + 3)
        # And each is now a hit of its own.
        self.assertEqual(infer([1.0], parameters={"scale": 10})[2]["outputs"][0]["data"], [10.0])
        self.assertEqual(worker_calls(), calls + 3)

    def test_refusals_are_never_cached(self):
        calls = worker_calls()
        for _ in range(3):
            status, _, body = infer([-2.0])
            self.assertEqual(status, 400, body)
            self.assertIn("-2 is not allowed", body["error"])
        self.assertEqual(worker_calls(), calls + 3)
        # A request the daemon refuses before the model never reaches the cache.
        status, _, body = request("POST", f"{D.base}/v2/models/{MODEL}/infer",
                                  {"inputs": [{"name": "x", "datatype": "INT32", "shape": [1],
                                               "data": [1]}]})
        self.assertEqual(status, 400, body)

    def test_max_entries_evicts_the_least_recently_used(self):
        evictions = cache("evictions")
        for x in (1.0, 2.0, 3.0, 4.0):  # max_entries 3: the fourth pushes out 1.0
            self.assertEqual(infer([x])[0], 200)
        self.assertEqual(cache("evictions"), evictions + 1)
        calls = worker_calls()
        self.assertEqual(infer([4.0])[0], 200)
        self.assertEqual(worker_calls(), calls)       # still kept
        self.assertEqual(infer([1.0])[0], 200)
        self.assertEqual(worker_calls(), calls + 1)   # evicted: a worker call

    def test_a_reload_empties_the_cache(self):
        self.assertEqual(infer([7.0])[0], 200)
        calls = worker_calls()
        self.assertEqual(infer([7.0])[0], 200)
        self.assertEqual(worker_calls(), calls)
        status, _, body = request("POST", f"{D.base}/v2/repository/models/{MODEL}/load")
        self.assertEqual(status, 200, body)
        self.assertEqual(infer([7.0])[0], 200)
        self.assertEqual(worker_calls(), calls + 1)

    def test_a_model_without_a_cache_has_no_cache_series(self):
        calls = worker_calls("picky_py")
        for _ in range(2):
            self.assertEqual(infer([3.0], model="picky_py")[0], 200)
        self.assertEqual(worker_calls("picky_py"), calls + 2)  # both reached a worker
        names = {name for name, labels in scrape(D) if ("model", "picky_py") in labels}
        self.assertIn("modelgate_requests_total", names)
        self.assertFalse([n for n in names if n.startswith("modelgate_cache_")], names)


if __name__ == "__main__":
    unittest.main()
