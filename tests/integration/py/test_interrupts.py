"""Interrupt before kill, and per-model python_path / r_libs, on the native
worker host (modelgate-worker, built beside the daemon binary).

A request running past its client's deadline is answered 504; its worker is
interrupted (Python KeyboardInterrupt, R user interrupt) and, once the
interpreter returns, keeps its model and serves the next request: same pid,
modelgate_worker_interrupts_total +1, no restart. A model that blocks the
interrupt is killed after the grace (interrupt_grace_ms, default 200 ms) and
replaced: a restart with reason "timeout".
"""

import json
import os
import unittest

from daemon import BINARY, Daemon, alive, make_repository, request, scrape, value, wait_for

WORKER_HOST = os.path.join(os.path.dirname(BINARY), "modelgate-worker")
MODELS = ("slow_py", "slow_r", "sigblock_py", "sigblock_r", "envpath_py", "envpath_r")
# The client's deadline (V2 "timeout", microseconds) and how long the model
# would run without an interrupt: far apart, so only an interrupt or a kill
# can end the call early.
DEADLINE_US = 300_000
MODEL_SECONDS = 30
D = None


def setUpModule():
    global D
    D = Daemon(make_repository(examples=(), test_models=MODELS),
               extra_args=("--worker-host", WORKER_HOST))
    D.wait_ready()


def tearDownModule():
    D.cleanup()


def seconds_infer(model, seconds, timeout_us=None, request_id=None):
    body = {"inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1], "data": [seconds]}]}
    if timeout_us:
        body["parameters"] = {"timeout": timeout_us}
    headers = {"x-request-id": request_id} if request_id else None
    return request("POST", D.base + f"/v2/models/{model}/infer", body, headers=headers)


def restarts(samples, model):
    return sum(value(samples, "modelgate_worker_restarts_total", model=model, version="1", reason=r)
               for r in ("crash", "timeout", "recycle", "malformed", "start_failed"))


def log_records(msg):
    text = D.log()
    out = []
    for line in text[:text.rfind("\n") + 1].splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg:
            out.append(rec)
    return out


class InterruptTest(unittest.TestCase):
    def ready_pid(self, model):
        self.assertTrue(D.wait_workers(model, "ready", 1, timeout=60), f"{model} has no ready worker")
        pids = D.worker_pids(model)
        self.assertEqual(len(pids), 1, pids)
        return pids[0]

    def test_interrupted_worker_keeps_its_model_and_serves_the_next_request(self):
        for model in ("slow_py", "slow_r"):
            with self.subTest(model=model):
                pid = self.ready_pid(model)
                before = scrape(D)
                rid = f"interrupt-{model}"
                status, _, body = seconds_infer(model, MODEL_SECONDS, DEADLINE_US, request_id=rid)
                self.assertEqual(status, 504, body)
                self.assertIn("ran past its deadline", body["error"])
                # The interpreter returns from its interrupt: the same worker
                # serves the next request (it waits for the slot if needed).
                status, _, body = seconds_infer(model, 0)
                self.assertEqual(status, 200, body)
                self.assertEqual(body["outputs"][0]["data"], [0.0])
                self.assertEqual(D.worker_pids(model), [pid])
                self.assertTrue(alive(pid))
                after = scrape(D)
                self.assertEqual(value(after, "modelgate_worker_interrupts_total", model=model, version="1")
                                 - value(before, "modelgate_worker_interrupts_total", model=model, version="1"), 1)
                self.assertEqual(restarts(after, model) - restarts(before, model), 0)
                # One log line for the interrupt, naming the request and the pid.
                self.assertTrue(wait_for(lambda: any(
                    r.get("request_id") == rid for r in
                    log_records("deadline passed while running; interrupted the worker's call")),
                    timeout=10))
                [line] = [r for r in log_records(
                    "deadline passed while running; interrupted the worker's call")
                    if r.get("request_id") == rid]
                self.assertEqual((line["model"], line["version"], line["pid"]), (model, "1", pid))

    def test_model_that_blocks_the_interrupt_is_killed_after_the_grace(self):
        for model in ("sigblock_py", "sigblock_r"):
            with self.subTest(model=model):
                pid = self.ready_pid(model)
                before = scrape(D)
                status, _, body = seconds_infer(model, MODEL_SECONDS, DEADLINE_US)
                self.assertEqual(status, 504, body)
                # Killed well before the model's 30 s would have ended.
                self.assertTrue(wait_for(lambda: not alive(pid), timeout=15),
                                f"{model}: worker {pid} was not killed")
                self.assertTrue(wait_for(lambda: D.worker_pids(model) not in ([], [pid]), timeout=60),
                                f"{model}: no replacement worker")
                new_pid = self.ready_pid(model)
                self.assertNotEqual(new_pid, pid)
                status, _, body = seconds_infer(model, 0)
                self.assertEqual(status, 200, body)
                after = scrape(D)
                timeout_kills = (
                    value(after, "modelgate_worker_restarts_total", model=model, version="1", reason="timeout")
                    - value(before, "modelgate_worker_restarts_total", model=model, version="1", reason="timeout"))
                self.assertEqual(timeout_kills, 1)
                self.assertEqual(restarts(after, model) - restarts(before, model), 1)
                self.assertEqual(value(after, "modelgate_worker_interrupts_total", model=model, version="1")
                                 - value(before, "modelgate_worker_interrupts_total", model=model, version="1"), 1)


class SearchPathTest(unittest.TestCase):
    def test_python_path_entry_is_importable(self):
        status, _, body = request("POST", D.base + "/v2/models/envpath_py/infer",
                                  {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2],
                                               "data": [1.0, 2.5]}]})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["outputs"][0]["data"], [3.0, 7.5])

    def test_r_libs_entry_is_on_the_library_path(self):
        status, _, body = request("POST", D.base + "/v2/models/envpath_r/infer",
                                  {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1],
                                               "data": [4.0]}]})
        self.assertEqual(status, 200, body)
        outputs = {o["name"]: o["data"] for o in body["outputs"]}
        self.assertEqual(outputs, {"y": [4.0], "on_lib_path": [1.0]})


if __name__ == "__main__":
    unittest.main()
