"""Fault injection against the real daemon with real R and Python workers.

Each scenario counts requests sent, answered and lost (lost must be 0) and
the daemon's state after it; the table is printed at the end of the run.
"""

import json
import os
import signal
import sys
import threading
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, alive, make_repository, request, scrape, value, wait_for

FAULT_MODELS = ("crash_py", "slow_py", "slow_r", "garbage_py", "memhog_py", "echo_py",
                "rated_py", "load_fail_py")
D = None
STUB = None
TABLE = []


def setUpModule():
    global D, STUB
    D = Daemon(make_repository(examples=("mtcars_am", "iris_species"), test_models=FAULT_MODELS))
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()
    print("\n| scenario | sent | answered | lost | statuses | daemon after |", file=sys.stderr)
    print("|---|---|---|---|---|---|", file=sys.stderr)
    for row in TABLE:
        print("| " + " | ".join(str(c) for c in row) + " |", file=sys.stderr)


def x_infer(model, values, timeout_us=None, base=None):
    body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [len(values)], "data": values}]}
    if timeout_us:
        body["parameters"] = {"timeout": timeout_us}
    return request("POST", (base or D.base) + f"/v2/models/{model}/infer", body)


def seconds_infer(model, seconds, timeout_us=None, base=None):
    body = {"inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1], "data": [seconds]}]}
    if timeout_us:
        body["parameters"] = {"timeout": timeout_us}
    return request("POST", (base or D.base) + f"/v2/models/{model}/infer", body)


def server_state(daemon=None):
    d = daemon or D
    live = request("GET", d.base + "/v2/health/live")[0]
    ready = request("GET", d.base + "/v2/health/ready")[0]
    return f"live {live}, ready {ready}"


def record(name, statuses, daemon_state=None):
    TABLE.append((name, len(statuses), sum(1 for s in statuses if s is not None),
                  sum(1 for s in statuses if s is None), sorted({s for s in statuses if s}),
                  daemon_state or server_state()))


class FaultTest(unittest.TestCase):
    def assert_still_serves(self):
        status, _, body = request("POST", D.base + "/v1/models/mtcars_am:predict",
                                  {"instances": [{"wt": 2.5, "hp": 100}]})
        self.assertEqual(status, 200, body)

    def test_crash_on_input_fails_that_request_and_the_next_succeeds(self):
        statuses = []
        status, hdrs, body = x_infer("crash_py", [-1.0])
        statuses.append(status)
        self.assertEqual(status, 503, body)
        self.assertIn("exited with code 3", body["error"])
        self.assertIn("negative input, exiting hard", body["error"])  # stderr tail
        self.assertIn(hdrs["x-request-id"], body["error"])
        self.assertIn("Retry-After", hdrs)
        status, _, body = x_infer("crash_py", [2.0])  # waits for the replacement
        statuses.append(status)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["outputs"][0]["data"], [4.0])
        self.assert_still_serves()
        record("model crashes on a given input (python)", statuses)

    def test_kill_9_of_busy_worker(self):
        for model in ("slow_py", "slow_r"):
            with self.subTest(model=model):
                statuses = []
                self.assertTrue(wait_for(lambda: request("GET", D.base + f"/v2/models/{model}/ready")[0] == 200))
                self.assertTrue(D.wait_workers(model, "ready", 1))
                [pid] = D.worker_pids(model)
                result = {}
                t = threading.Thread(target=lambda: result.setdefault("r", seconds_infer(model, 30)))
                t.start()
                self.assertTrue(D.wait_workers(model, "busy", 1), "the request never reached the worker")
                os.kill(pid, signal.SIGKILL)
                t.join(timeout=20)
                self.assertFalse(t.is_alive(), "request not answered promptly")
                status, _, body = result["r"]
                statuses.append(status)
                self.assertEqual(status, 503, body)
                self.assertIn("killed by signal 9", body["error"])
                status, _, body = seconds_infer(model, 0)
                statuses.append(status)
                self.assertEqual(status, 200, body)
                record(f"kill -9 of a busy worker ({model})", statuses)

    def test_hung_model_under_1s_deadline_is_interrupted_rest_and_grpc(self):
        statuses = []
        # REST: V2 "timeout" parameter in microseconds.
        self.assertTrue(wait_for(lambda: request("GET", D.base + "/v2/models/slow_r/ready")[0] == 200))
        self.assertTrue(D.wait_workers("slow_r", "ready", 1))
        [pid] = D.worker_pids("slow_r")
        # Answered at the deadline, not after the hour: request() gives up after 60 s.
        status, _, body = seconds_infer("slow_r", 3600, timeout_us=1_000_000)
        statuses.append(status)
        self.assertEqual(status, 504, body)
        self.assertIn("ran past its deadline", body["error"])
        # Sys.sleep checks for interrupts: the worker stops the call and keeps
        # its model (test_interrupts covers the kill of one that does not).
        status, _, body = seconds_infer("slow_r", 0)
        statuses.append(status)
        self.assertEqual(status, 200, body)
        self.assertEqual(D.worker_pids("slow_r"), [pid])
        # gRPC: the call's own deadline.
        self.assertTrue(wait_for(lambda: request("GET", D.base + "/v2/models/slow_py/ready")[0] == 200))
        self.assertTrue(D.wait_workers("slow_py", "ready", 1))
        [pid] = D.worker_pids("slow_py")
        r = pb.ModelInferRequest(model_name="slow_py")
        r.inputs.add(name="seconds", datatype="FP64", shape=[1]).contents.fp64_contents.append(3600)
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelInfer(r, timeout=1.0)
        statuses.append(504)
        self.assertEqual(e.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)
        status, _, body = seconds_infer("slow_py", 0)
        statuses.append(status)
        self.assertEqual(status, 200, body)
        self.assertEqual(D.worker_pids("slow_py"), [pid])
        record("hung model, 1 s deadline (REST on R, gRPC on Python)", statuses)

    def test_garbage_on_stdout_is_harmless_and_on_the_frame_pipe_is_malformed(self):
        statuses = []
        status, _, body = x_infer("garbage_py", [1.0, 2.0])
        statuses.append(status)
        self.assertEqual(status, 200, body)
        status, _, body = x_infer("garbage_py", [-1.0])
        statuses.append(status)
        self.assertEqual(status, 503, body)
        self.assertIn("malformed frame", body["error"])
        status, _, body = x_infer("garbage_py", [5.0])
        statuses.append(status)
        self.assertEqual(status, 200, body)
        record("garbage on stdout, then on the frame pipe", statuses)

    def test_memory_exhaustion_under_a_limit(self):
        statuses = []
        status, _, body = request("POST", D.base + "/v2/models/memhog_py/infer", {"inputs": [
            {"name": "mb", "datatype": "FP64", "shape": [1], "data": [4096]}]})
        statuses.append(status)
        self.assertIn(status, (500, 503), body)
        self.assertTrue("MemoryError" in body["error"] or "Unable to allocate" in body["error"]
                        or "killed" in body["error"], body)
        status, _, body = request("POST", D.base + "/v2/models/memhog_py/infer", {"inputs": [
            {"name": "mb", "datatype": "FP64", "shape": [1], "data": [8]}]})
        statuses.append(status)
        self.assertEqual(status, 200, body)
        self.assert_still_serves()
        record("model exhausts memory under a 1 GiB limit", statuses)

    def test_load_failure(self):
        status, _, body = x_infer("load_fail_py", [1.0])
        self.assertEqual(status, 503)
        self.assertIn("artifact missing", body["error"])
        self.assert_still_serves()
        record("model fails to load", [status])

    def test_crash_loop_opens_breaker_then_closes_after_fault_clears(self):
        statuses = []
        saw_open = False
        for _ in range(12):
            status, hdrs, body = x_infer("crash_py", [-1.0])
            statuses.append(status)
            self.assertEqual(status, 503, body)
            if "circuit breaker" in body["error"]:
                saw_open = True
                self.assertIn("Retry-After", hdrs)
                break
        self.assertTrue(saw_open, "breaker never opened")
        status, _, body = request("GET", D.base + "/v2/models/crash_py/ready")
        self.assertEqual(status, 503)
        # Other models keep serving while it is open.
        for _ in range(5):
            self.assert_still_serves()
        # The fault clears; after the open duration a probe succeeds and closes it.
        def probe_ok():
            s, _, _ = x_infer("crash_py", [1.0])
            statuses.append(s)
            return s == 200
        self.assertTrue(wait_for(probe_ok, timeout=30))
        self.assertTrue(wait_for(lambda: request("GET", D.base + "/v2/models/crash_py/ready")[0] == 200))
        record("crash loop opens the breaker; closes after the fault clears", statuses)

    def test_flood_beyond_the_queue(self):
        statuses = [None] * 40
        def one(i):
            statuses[i] = seconds_infer("slow_py", 0.2)[0]
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(statuses))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertNotIn(None, statuses, "a request was never answered")
        self.assertTrue(set(statuses) <= {200, 429, 503}, statuses)
        self.assertIn(429, statuses)
        self.assertIn(200, statuses)
        record("flood of 40 beyond a queue of 2", statuses)

    def test_rest_client_that_disconnects_releases_its_queued_request(self):
        import socket
        self.assertTrue(wait_for(lambda: request("GET", D.base + "/v2/models/slow_py/ready")[0] == 200))
        before = scrape(D)
        busy = threading.Thread(target=lambda: seconds_infer("slow_py", 1.5))
        busy.start()
        self.assertTrue(D.wait_workers("slow_py", "busy", 1), "the only worker never became busy")
        body = json.dumps({"inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1], "data": [0]}]})
        s = socket.create_connection(("127.0.0.1", D.http_port))
        s.sendall((f"POST /v2/models/slow_py/infer HTTP/1.1\r\nHost: x\r\nx-request-id: gone-1\r\n"
                   f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
        queued = wait_for(lambda: D.metric("modelgate_queue_depth", model="slow_py", version="1") == 1,
                          timeout=10)
        s.close()
        busy.join(30)
        self.assertTrue(queued, "the request was never queued behind the busy worker")

        def settled():
            after = scrape(D)
            return value(after, "modelgate_requests_total", model="slow_py", version="1", protocol="http",
                         code="CANCELLED") - value(before, "modelgate_requests_total", model="slow_py",
                                                    version="1", protocol="http", code="CANCELLED") == 1
        self.assertTrue(wait_for(settled, timeout=10), "the disconnected request was not withdrawn")
        # Nothing queued or running any more: every worker call has been counted.
        self.assertTrue(wait_for(lambda: D.metric("modelgate_inflight_requests", model="slow_py",
                                                  version="1") == 0, timeout=10))
        after = scrape(D)
        ran = (value(after, "modelgate_compute_duration_seconds_count", model="slow_py", version="1")
               - value(before, "modelgate_compute_duration_seconds_count", model="slow_py", version="1"))
        self.assertEqual(ran, 1)  # only the busy request ever reached the worker
        record("REST client disconnects while queued", [200, 499])

    def test_rate_limit_and_recycling(self):
        statuses = [x_infer("rated_py", [1.0])[0] for _ in range(5)]
        self.assertEqual(statuses[:2], [200, 200])
        self.assertIn(429, statuses[2:])
        pids = []
        for i in range(7):
            status, _, body = x_infer("echo_py", [float(i)])
            statuses.append(status)
            self.assertEqual(status, 200, body)
            pids.append({o["name"]: o["data"] for o in body["outputs"]}["pid"][0])
        self.assertEqual(pids[0:3], [pids[0]] * 3)  # recycled after 3 requests
        self.assertGreaterEqual(len(set(pids)), 3)
        record("rate limit (0.5/s, burst 2) and recycling after 3 requests", statuses)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_under_load_answers_every_request(self):
        d = Daemon(make_repository(examples=("mtcars_am",), test_models=("slow_py",)),
                   extra_args=("--shutdown-grace-seconds", "2"))
        try:
            d.wait_ready()
            statuses = [None] * 12
            def one(i):
                try:
                    statuses[i] = seconds_infer("slow_py", 0.5, base=d.base)[0]
                except OSError:
                    statuses[i] = "connection error"
            threads = [threading.Thread(target=one, args=(i,)) for i in range(len(statuses))]
            for t in threads:
                t.start()
            # Requests are in flight (the one worker busy, others queued) before SIGTERM.
            self.assertTrue(d.wait_workers("slow_py", "busy", 1))
            pids = d.worker_pids("slow_py") + d.worker_pids("mtcars_am")
            self.assertEqual(len(pids), 3)  # slow_py 1, mtcars_am 2
            code = d.stop()
            for t in threads:
                t.join(timeout=30)
            self.assertEqual(code, 0, d.log()[-3000:])
            self.assertNotIn(None, statuses)
            self.assertTrue(set(statuses) <= {200, 429, 503}, statuses)
            self.assertEqual([p for p in pids if alive(p)], [])
            record("SIGTERM under load (grace 2 s)", statuses, f"exit {code}, workers left 0")
        finally:
            d.cleanup()

    def test_sigkill_of_the_daemon_takes_its_workers_along(self):
        d = Daemon(make_repository(examples=("mtcars_am", "iris_species")))
        try:
            d.wait_ready()
            self.assertTrue(wait_for(lambda: len(d.worker_pids("mtcars_am")
                                                 + d.worker_pids("iris_species")) == 4))
            pids = d.worker_pids("mtcars_am") + d.worker_pids("iris_species")
            self.assertEqual(len(set(pids)), 4)
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait()
            self.assertTrue(wait_for(lambda: not any(alive(p) for p in pids), timeout=10),
                            [p for p in pids if alive(p)])
            record("SIGKILL of the daemon", [], "workers gone")
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
