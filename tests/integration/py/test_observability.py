"""Metrics count exactly what was sent; JSON logs parse; request ids travel."""

import json
import os
import signal
import threading
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, children, make_repository, request, scrape, value, wait_for


class ObservabilityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(make_repository(examples=("mtcars_am", "iris_species"), test_models=("slow_py",)))
        cls.d.wait_ready()
        cls.stub = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{cls.d.grpc_port}"))

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def test_counters_and_histograms_change_by_exactly_what_was_sent(self):
        d = self.d
        before = scrape(d)
        for i in range(5):
            status, _, _ = request("POST", d.base + "/v1/models/mtcars_am:predict",
                                   {"instances": [{"wt": 2.0 + i, "hp": 100}]})
            self.assertEqual(status, 200)
        for _ in range(2):
            status, _, _ = request("POST", d.base + "/v2/models/mtcars_am/infer", {"inputs": []})
            self.assertEqual(status, 400)
        self.assertEqual(request("POST", d.base + "/v2/models/nope/infer", {"inputs": []})[0], 404)
        for _ in range(3):
            r = pb.ModelInferRequest(model_name="iris_species")
            r.inputs.add(name="features", datatype="FP64", shape=[1, 4])
            r.raw_input_contents.append(np.array([5.1, 3.5, 1.4, 0.2]).tobytes())
            self.stub.ModelInfer(r)
        # A worker killed mid-request: one UNAVAILABLE and one crash restart.
        self.assertTrue(d.wait_workers("slow_py", "ready", 1))
        [pid] = d.worker_pids("slow_py")
        result = {}
        t = threading.Thread(target=lambda: result.setdefault("r", request(
            "POST", d.base + "/v2/models/slow_py/infer",
            {"inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1], "data": [30]}]})))
        t.start()
        self.assertTrue(d.wait_workers("slow_py", "busy", 1), "the request never reached the worker")
        os.kill(pid, signal.SIGKILL)
        t.join(30)
        self.assertEqual(result["r"][0], 503)
        self.assertTrue(wait_for(lambda: d.worker_pids("slow_py") not in ([], [pid])),
                        "no replacement worker")
        self.assertTrue(d.wait_workers("slow_py", "ready", 1))
        after = scrape(d)

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        R = "modelgate_requests_total"
        self.assertEqual(delta(R, model="mtcars_am", version="1", protocol="http", code="OK"), 5)
        self.assertEqual(delta(R, model="mtcars_am", version="1", protocol="http", code="INVALID_ARGUMENT"), 2)
        self.assertEqual(delta(R, model="_unknown", version="", protocol="http", code="NOT_FOUND"), 1)
        self.assertEqual(delta(R, model="iris_species", version="1", protocol="grpc", code="OK"), 3)
        self.assertEqual(delta(R, model="slow_py", version="1", protocol="http", code="UNAVAILABLE"), 1)
        self.assertEqual(delta("modelgate_request_duration_seconds_count",
                               model="mtcars_am", version="1", protocol="http"), 7)
        # Bad input never reaches a worker: 5 computed, not 7.
        self.assertEqual(delta("modelgate_compute_duration_seconds_count", model="mtcars_am", version="1"), 5)
        self.assertEqual(delta("modelgate_queue_duration_seconds_count", model="iris_species", version="1"), 3)
        self.assertEqual(delta("modelgate_batch_size_count", model="iris_species", version="1"), 3)
        self.assertEqual(delta("modelgate_worker_restarts_total", model="slow_py", version="1", reason="crash"), 1)
        self.assertEqual(value(after, "modelgate_workers", model="mtcars_am", version="1", state="ready"), 2)
        self.assertEqual(value(after, "modelgate_circuit_breaker_state", model="mtcars_am", version="1"), 0)
        self.assertGreater(value(after, "modelgate_worker_memory_bytes", model="mtcars_am", version="1"), 1e6)
        # modelgate_worker_pid: one slot per configured worker, each a live child of the daemon.
        pids = d.worker_pids("mtcars_am")
        self.assertEqual(len(set(pids)), 2, pids)
        self.assertLessEqual(set(pids), set(children(d.proc.pid)))
        slots = sorted(dict(labels)["slot"] for name, labels in after
                       if name == "modelgate_worker_pid" and ("model", "mtcars_am") in labels)
        self.assertEqual(slots, ["0", "1"])
        self.assertGreater(value(after, "process_resident_memory_bytes"), 1e6)

    def test_request_id_on_the_response_and_on_its_log_lines(self):
        d = self.d
        status, hdrs, _ = request("POST", d.base + "/v1/models/mtcars_am:predict",
                                  {"instances": [{"wt": 3.0, "hp": 120}]},
                                  headers={"x-request-id": "obs-http-1"})
        self.assertEqual((status, hdrs.get("x-request-id")), (200, "obs-http-1"))
        r = pb.ModelInferRequest(model_name="iris_species", id="obs-grpc-1")
        r.inputs.add(name="features", datatype="FP64", shape=[1, 4])
        r.raw_input_contents.append(np.array([5.1, 3.5, 1.4, 0.2]).tobytes())
        resp, call = self.stub.ModelInfer.with_call(r)
        self.assertEqual(resp.id, "obs-grpc-1")
        self.assertIn(("x-request-id", "obs-grpc-1"), tuple(call.trailing_metadata()))
        # A request the model rejects logs nothing extra; one it fails on logs
        # the model error with the id.
        status, _, _ = request("POST", d.base + "/v2/models/slow_py/infer",
                               {"inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1],
                                            "data": [-1]}]},
                               headers={"x-request-id": "obs-err-1"})
        self.assertEqual(status, 500)
        expected = (("obs-http-1", "http"), ("obs-grpc-1", "grpc"), ("obs-err-1", "http"))

        def access_logged(records, rid, protocol):
            return any(r.get("request_id") == rid and r["msg"].startswith("access")
                       and r["protocol"] == protocol for r in records)

        def records():
            text = d.log()
            return [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]
        # Access lines are written after the answer: poll the log (bounded).
        wait_for(lambda: all(access_logged(records(), rid, p) for rid, p in expected), timeout=10)
        recs = records()
        for rid, protocol in expected:
            self.assertTrue(access_logged(recs, rid, protocol),
                            (rid, [r for r in recs if r.get("request_id") == rid]))
        err = [r for r in recs if r.get("request_id") == "obs-err-1" and r["level"] == "warning"]
        self.assertTrue(err and "model error" in err[0]["msg"], err)

    def test_every_log_line_is_json_with_the_fields(self):
        lines = self.d.log().splitlines()
        self.assertGreater(len(lines), 10)
        for line in lines:
            rec = json.loads(line)  # raises on any non-JSON line
            self.assertTrue({"ts", "level", "msg"} <= rec.keys(), rec)
        stderr_lines = [json.loads(l) for l in lines if '"stderr' in l or "stderr:" in l]
        self.assertTrue(any(r.get("model") == "slow_py" and "pid" in r for r in stderr_lines))


if __name__ == "__main__":
    unittest.main()
