"""Model lifecycle (issue 12) end to end: load by swap and drain, unload,
version policy, canary traffic and rollback, warm-up, poll mode, SIGHUP and
immutable versions, against the real daemon with real Python (and one R)
workers under continuous REST + gRPC load.

Each test writes its own repository of small generated models (see
lifecycle_support.py) whose answers carry the CODE of the source that
produced them, so every answer can be matched with the reload that made it
current. Waits poll the daemon; every load and every wait is bounded.
"""

import collections
import os
import signal
import threading
import time
import unittest

import grpc

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, alive, children, request, wait_for
from lifecycle_support import (Load, Repository, ROUTE_KEY_HEADER, REJECTED_X, failures, index,
                               index_entry, infer, is_unavailable, load, model_config,
                               model_info_fingerprints, model_states, process_report, settled,
                               unload, x_input)

SETTLE_S = 30  # bound on every wait for workers to start, drain or be reaped
POLL_SECS = 1  # --repository-poll-secs of the poll-mode test
POLL_WAIT_S = 30  # bound on a poll-mode change taking effect (2 periods + worker start, with slack)


class LifecycleTest(unittest.TestCase):
    def start(self, models, mode="explicit", extra=()):
        """A daemon on a fresh repository. `models`: {name: (config, {version: code})}."""
        self.repo = Repository()
        for name, (config, versions) in models.items():
            self.repo.add_model(name, config, versions)
        args = (("--model-control-mode", mode) if mode else ()) + tuple(extra)
        self.d = Daemon(self.repo.path, extra_args=args)
        self.addCleanup(self.repo.cleanup)
        self.addCleanup(self.d.stop)
        self.d.wait_ready()
        return self.d

    def assert_settled(self, workers, old_pids=()):
        """The daemon's live children are exactly `workers`, none is a zombie
        and no old worker lives on (waits, bounded, for drains and reaps)."""
        ok = wait_for(lambda: settled(self.d, workers, old_pids), timeout=SETTLE_S)
        self.assertTrue(ok, process_report(self.d, old_pids))

    def wait_pids(self, model, version, n, old=()):
        """Waits (bounded) until the version has `n` workers none of which is
        in `old`; their pids."""
        def settled():
            pids = self.d.worker_pids(model, version)  # one scrape for both checks
            return len(pids) == n and not set(pids) & set(old)
        ok = wait_for(settled, timeout=SETTLE_S)
        pids = self.d.worker_pids(model, version)
        self.assertTrue(ok, f"{model}/{version} workers {pids}, wanted {n} new (old {old})")
        return pids

    def assert_no_failures(self, answers):
        bad = failures(answers)
        self.assertEqual(bad, [], f"{len(bad)} of {len(answers)} requests failed")

    def assert_loaded(self, result):
        status, body, _, _ = result
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {})

    # a) ----------------------------------------------------------------------

    def reload_under_load(self, backend, reloads, workers):
        """Reloads changed code `reloads` times under REST + gRPC load. Each
        answer with code k must have been sent before the switch away from k
        completed and answered after the switch to k began."""
        d = self.start({"m": (model_config(backend, workers=workers), {1: 0})})
        began = {0: float("-inf")}  # code -> when the load that made it current was sent
        ended = {}  # code -> when the load that replaced it returned
        fingerprints = [index_entry(d, "m", 1)["fingerprint"]]
        pids = self.wait_pids("m", "1", workers)
        seen_pids = set(pids)
        loads_before = d.metric("modelgate_model_loads_total", model="m", version="1",
                                result="success")
        with Load(d, "m") as load_gen:
            self.assertTrue(load_gen.wait_answers(50))
            for code in range(1, reloads + 1):
                self.repo.write_code("m", 1, code, backend)
                result = load(d, "m")
                self.assert_loaded(result)
                began[code], ended[code - 1] = result[2], result[3]
                # Switched when load returned: a request sent now gets the new code.
                self.assertEqual(infer(d, "m")[:3], (200, "1", code))
                pids = self.wait_pids("m", "1", workers, old=seen_pids)
                seen_pids |= set(pids)
                self.assert_settled(workers, old_pids=seen_pids - set(pids))
                entry = index_entry(d, "m", 1)
                self.assertEqual(entry["state"], "READY")
                self.assertNotIn(entry["fingerprint"], fingerprints)
                fingerprints.append(entry["fingerprint"])
                self.assertTrue(load_gen.wait_answers(20))
        answers = load_gen.answers
        ended[reloads] = float("inf")
        self.assert_no_failures(answers)
        self.assertEqual({a.proto for a in answers}, {"rest", "grpc"})
        for a in answers:
            if a.status != 200:
                continue  # counted above
            self.assertIn(a.code, began, a)
            self.assertEqual(a.version, "1", a)
            self.assertLessEqual(a.sent, ended[a.code], f"sent after its code was replaced: {a}")
            self.assertGreaterEqual(a.answered, began[a.code], f"answered before its load: {a}")
        # Old codes answered until their switch, so more than one code was seen under load.
        self.assertGreater(len({a.code for a in answers}), reloads // 2)
        self.assertEqual(model_info_fingerprints(d, "m", 1), [fingerprints[-1]])
        self.assertTrue(wait_for(lambda: model_states(d, "m", 1) == ["ready"], timeout=SETTLE_S),
                        model_states(d, "m", 1))
        self.assertEqual(d.metric("modelgate_model_loads_total", model="m", version="1",
                                  result="success"), loads_before + reloads)
        self.assertIsNone(d.proc.poll())

    def test_reload_changed_python_code_10_times_under_load(self):
        self.reload_under_load("python", reloads=10, workers=2)

    def test_reload_changed_r_code_under_load(self):
        self.reload_under_load("r", reloads=3, workers=1)

    # b) ----------------------------------------------------------------------

    def test_adding_a_version_moves_unversioned_traffic_to_it(self):
        d = self.start({"m": (model_config(workers=2), {1: 1})})
        v1 = self.wait_pids("m", "1", 2)
        with Load(d, "m") as load_gen:
            self.assertTrue(load_gen.wait_answers(50))
            self.repo.write_code("m", 2, 2)
            self.repo.write_config("m", {"workers": 3}, version=2)  # overrides the top level's 2
            result = load(d, "m")
            self.assert_loaded(result)
            self.assertTrue(load_gen.wait_answers(100))
        answers = load_gen.answers
        self.assert_no_failures(answers)
        for a in answers:
            self.assertEqual(a.code, int(a.version), a)  # one version, one code
            if a.sent > result[3]:
                self.assertEqual(a.version, "2", a)
        self.assertIn("2", {a.version for a in answers})
        # Version 1 is outside the default policy (latest 1) now.
        status, _, _, body = infer(d, "m", version=1)
        self.assertEqual(status, 404, body)
        self.assertEqual(infer(d, "m", version=2)[:3], (200, "2", 2))
        self.wait_pids("m", "2", 3)
        self.assertEqual(d.worker_pids("m", "1"), [])
        self.assert_settled(3, old_pids=v1)
        self.assertEqual(index_entry(d, "m", 2)["state"], "READY")
        self.assertNotEqual((index_entry(d, "m", 1) or {}).get("state"), "READY")

    # c) ----------------------------------------------------------------------

    def test_code_that_fails_to_load_leaves_the_old_code_serving(self):
        d = self.start({"m": (model_config(workers=2), {1: 1})})
        pids = self.wait_pids("m", "1", 2)
        before = index_entry(d, "m", 1)["fingerprint"]
        message = "lifecycle-test: weights.bin is corrupt"
        with Load(d, "m") as load_gen:
            self.assertTrue(load_gen.wait_answers(50))
            self.repo.write_code("m", 1, 2, init_error=message)
            status, body, _, _ = load(d, "m")
            self.assertNotEqual(status, 200, body)
            self.assertIn(message, body["error"])
            self.assertTrue(load_gen.wait_answers(100))
        answers = load_gen.answers
        self.assert_no_failures(answers)
        self.assertEqual({a.code for a in answers}, {1})
        entry = index_entry(d, "m", 1)
        self.assertEqual(entry["state"], "READY")
        self.assertEqual(entry["fingerprint"], before)
        self.assertEqual(d.worker_pids("m", "1"), pids)  # untouched
        self.assert_settled(2)  # the failed new workers are gone
        self.assertGreaterEqual(d.metric("modelgate_model_loads_total", model="m", version="1",
                                         result="failure"), 1)
        self.assertEqual(request("GET", d.base + "/v2/health/ready")[0], 200)

    def test_failing_warmup_is_a_load_failure_and_a_passing_one_runs_first(self):
        warm = {"warmup": [{"inputs": x_input(5.0)}]}
        d = self.start({"m": (model_config(workers=1, **warm), {1: 1})})
        # The warm-up was the worker's first predict.
        outputs = {o["name"]: o["data"] for o in infer(d, "m")[3]["outputs"]}
        self.assertEqual(outputs["calls"], [2])
        pids = d.worker_pids("m", "1")
        failing = [{"inputs": x_input(REJECTED_X)}]
        self.repo.write_config("m", model_config(workers=1, warmup=failing))
        status, body, _, _ = load(d, "m")
        self.assertNotEqual(status, 200, body)
        self.assertIn(f"rejects x = {REJECTED_X}", body["error"])
        self.assertEqual(infer(d, "m")[:3], (200, "1", 1))
        self.assertEqual(d.worker_pids("m", "1"), pids)
        self.assert_settled(1)

    def test_config_parameter_overrides_config_json_and_a_bad_one_is_400(self):
        d = self.start({"m": (model_config(workers=1), {1: 1})})
        pids = d.worker_pids("m", "1")
        status, _, body = request("POST", d.base + "/v2/repository/models/m/load",
                                  {"parameters": {"config": "{not json"}})
        self.assertEqual(status, 400, body)
        self.assertEqual(d.worker_pids("m", "1"), pids)
        self.assert_loaded(load(d, "m", config=model_config(workers=3)))
        self.wait_pids("m", "1", 3, old=pids)
        self.assert_settled(3, old_pids=pids)
        self.assertEqual(infer(d, "m")[:3], (200, "1", 1))

    def test_concurrent_loads_start_one_set_of_workers(self):
        d = self.start({"m": (model_config(workers=1), {1: 1})})
        old = d.worker_pids("m", "1")
        self.repo.write_code("m", 1, 2)
        results, peak = [], [0]
        threads = [threading.Thread(target=lambda: results.append(load(d, "m")))
                   for _ in range(3)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + SETTLE_S
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            peak[0] = max(peak[0], len(children(d.proc.pid)))
            time.sleep(0.005)
        for t in threads:
            t.join(SETTLE_S)
        self.assertEqual([r[0] for r in results], [200] * 3, results)
        self.assertLessEqual(peak[0], 2)  # the old worker and one new one, never two new ones
        self.assertEqual(infer(d, "m")[:3], (200, "1", 2))
        self.assert_settled(1, old_pids=old)

    # d) ----------------------------------------------------------------------

    def unversioned(self, n, route_key=None):
        """Versions answering `n` sequential unversioned REST requests."""
        got = []
        for _ in range(n):
            status, version, code, body = infer(self.d, "m", route_key=route_key)
            self.assertEqual(status, 200, body)
            self.assertEqual(code, int(version))
            got.append(version)
        return collections.Counter(got)

    def test_canary_weights_shift_and_roll_back_without_restarting_workers(self):
        def config(weights):
            return model_config(workers=1, version_policy={"all": {}}, traffic=weights)

        d = self.start({"m": (config({"1": 90, "2": 10}), {1: 1, 2: 2})})
        pids = {v: self.wait_pids("m", v, 1) for v in ("1", "2")}
        with Load(d, "m") as load_gen:
            counts = self.unversioned(400)
            self.assertEqual(set(counts), {"1", "2"})
            self.assertGreater(counts["1"], counts["2"])
            # Sticky: a key always lands on one version, on REST and gRPC alike.
            for k in range(50):
                key = f"user-{k}"
                self.assertEqual(len(self.unversioned(5, route_key=key)), 1, key)
            self.assertEqual(self.grpc_versions("user-7", 5), set(self.unversioned(1, "user-7")))

            self.repo.write_config("m", config({"1": 0, "2": 100}))
            self.assert_loaded(load(d, "m"))
            self.assertEqual(self.unversioned(100), {"2": 100})

            self.repo.write_config("m", config({"1": 100, "2": 0}))  # rollback
            self.assert_loaded(load(d, "m"))
            self.assertEqual(self.unversioned(100), {"1": 100})
            self.assertTrue(load_gen.wait_answers(50))
        self.assert_no_failures(load_gen.answers)
        for a in load_gen.answers:
            self.assertEqual(a.code, int(a.version), a)
        # Weight changes start no worker.
        self.assertEqual({v: d.worker_pids("m", v) for v in ("1", "2")}, pids)
        self.assert_settled(2)

    def grpc_versions(self, key, n):
        with grpc.insecure_channel(f"127.0.0.1:{self.d.grpc_port}") as channel:
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            req = pb.ModelInferRequest(model_name="m")
            req.inputs.add(name="x", datatype="FP64", shape=[1]).contents.fp64_contents.append(1.0)
            metadata = ((ROUTE_KEY_HEADER, key),)
            return {stub.ModelInfer(req, timeout=30, metadata=metadata).model_version
                    for _ in range(n)}

    # e) ----------------------------------------------------------------------

    def test_unload_load_20_times_under_load_leaks_no_worker(self):
        d = self.start({"m": (model_config(workers=2), {1: 1})})
        windows = []  # (unload sent, load returned): where a 503 is expected
        seen = set(self.wait_pids("m", "1", 2))
        with Load(d, "m") as load_gen:
            self.assertTrue(load_gen.wait_answers(50))
            for cycle in range(20):
                u = unload(d, "m")
                self.assertEqual(u[0], 200, u[1])
                if cycle == 0:
                    self.assert_settled(0, old_pids=seen)
                    status, _, _, body = infer(d, "m")
                    self.assertEqual(status, 503, body)
                    self.assertIn("unloaded", body["error"])
                    # The operator meant it: not a reason for the server to be unready.
                    self.assertEqual(request("GET", d.base + "/v2/health/ready")[0], 200)
                    self.assertIn("UNLOADED", [e["state"] for e in index(d) if e["name"] == "m"])
                l = load(d, "m")
                self.assert_loaded(l)
                windows.append((u[2], l[3]))
                pids = self.wait_pids("m", "1", 2, old=seen)
                seen |= set(pids)
                self.assert_settled(2, old_pids=seen - set(pids))
                self.assertTrue(load_gen.wait_answers(10))
        answers = load_gen.answers
        in_window = lambda a: any(a.answered >= s and a.sent <= e for s, e in windows)
        unexpected = [a for a in failures(answers) if not (is_unavailable(a) and in_window(a))]
        self.assertEqual(unexpected, [])
        self.assertGreater(len(answers) - len(failures(answers)), 0)
        self.assertEqual(infer(d, "m")[:3], (200, "1", 1))

    # f) ----------------------------------------------------------------------

    def test_poll_mode_applies_additions_removals_and_edits(self):
        d = self.start({"m": (model_config(workers=1), {1: 1})}, mode="poll",
                       extra=("--repository-poll-secs", str(POLL_SECS)))
        with Load(d, "m") as load_gen:
            self.assertTrue(load_gen.wait_answers(20))
            self.repo.add_model("added", model_config(workers=1), {1: 7})
            self.assertTrue(wait_for(lambda: infer(d, "added")[:3] == (200, "1", 7),
                                     timeout=POLL_WAIT_S), infer(d, "added"))
            self.assert_settled(2)
            added = d.worker_pids("added", "1")

            self.repo.remove_model("added")
            self.assertTrue(wait_for(lambda: infer(d, "added")[0] in (404, 503),
                                     timeout=POLL_WAIT_S), infer(d, "added"))
            self.assert_settled(1, old_pids=added)

            old = d.worker_pids("m", "1")
            self.repo.write_code("m", 1, 2)
            self.assertTrue(wait_for(lambda: infer(d, "m")[:3] == (200, "1", 2),
                                     timeout=POLL_WAIT_S), infer(d, "m"))
            self.assert_settled(1, old_pids=old)
            self.assertTrue(load_gen.wait_answers(20))
        self.assert_no_failures(load_gen.answers)
        self.assertEqual({a.code for a in load_gen.answers} - {1, 2}, set())

    # g) ----------------------------------------------------------------------

    def test_sighup_rescans_under_load_and_loses_nothing(self):
        d = self.start({"m": (model_config(workers=2), {1: 1})})
        old = d.worker_pids("m", "1")
        with Load(d, "m") as load_gen:
            self.assertTrue(load_gen.wait_answers(50))
            self.repo.write_code("m", 1, 2)
            os.kill(d.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_for(lambda: infer(d, "m")[:3] == (200, "1", 2), timeout=SETTLE_S),
                            infer(d, "m"))
            self.assertTrue(load_gen.wait_answers(50))
        self.assert_no_failures(load_gen.answers)
        self.assertIsNone(d.proc.poll())
        self.assert_settled(2, old_pids=old)
        self.assertIn("SIGHUP", d.log())

    # h) ----------------------------------------------------------------------

    def test_a_replacement_worker_runs_the_loaded_code_not_the_edited_files(self):
        d = self.start({"m": (model_config(workers=1), {1: 1})})
        [pid] = d.worker_pids("m", "1")
        fingerprint = index_entry(d, "m", 1)["fingerprint"]
        self.repo.write_code("m", 1, 2)  # on disk only: no load
        os.kill(pid, signal.SIGKILL)
        [replacement] = self.wait_pids("m", "1", 1, old=[pid])
        self.assertTrue(wait_for(lambda: infer(d, "m")[0] == 200, timeout=SETTLE_S))
        self.assertEqual(infer(d, "m")[:3], (200, "1", 1))
        self.assertEqual(index_entry(d, "m", 1)["fingerprint"], fingerprint)
        self.assertEqual(model_info_fingerprints(d, "m", 1), [fingerprint])
        self.assertFalse(alive(pid))
        # A load is what makes the edit count.
        self.assert_loaded(load(d, "m"))
        self.assertEqual(infer(d, "m")[:3], (200, "1", 2))
        self.assertNotEqual(index_entry(d, "m", 1)["fingerprint"], fingerprint)
        self.assert_settled(1, old_pids=[pid, replacement])

    # i) ----------------------------------------------------------------------

    def test_control_mode_none_refuses_load_and_unload(self):
        d = self.start({"m": (model_config(workers=1), {1: 1})}, mode=None)
        pids = d.worker_pids("m", "1")
        for action in ("load", "unload"):
            status, _, body = request("POST", d.base + f"/v2/repository/models/m/{action}", b"")
            self.assertEqual(status, 400, body)
            self.assertIn("--model-control-mode", body["error"])
        # SIGHUP is logged and harmless in every mode.
        os.kill(d.proc.pid, signal.SIGHUP)
        self.assertTrue(wait_for(lambda: "SIGHUP" in d.log(), timeout=SETTLE_S))
        self.assertIsNone(d.proc.poll())
        self.assertEqual(infer(d, "m")[:3], (200, "1", 1))
        self.assertEqual(d.worker_pids("m", "1"), pids)
        self.assertEqual(len(children(d.proc.pid)), 1)


if __name__ == "__main__":
    unittest.main()
