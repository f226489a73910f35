"""Isolation between clients, process hygiene and worker privileges, against
the real daemon with real R and Python workers.

- A client's own short deadline never costs a worker or a breaker failure.
- An abusive client cannot fail a well-behaved client's request.
- Processes that model code detaches die with their worker and with the daemon.
- Workers never run as root and get default resource limits a config may raise.
"""

import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import unittest

import grpc

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import (SOURCE_DIR, Daemon, alive, children, make_repository, request, scrape, value,
                    wait_for)

ROOT = os.geteuid() == 0
D = None
PID_DIR = None
STUB = None


def add_model(repo, name, source, config_changes):
    """repo/<name>: tests/models/<source>'s version 1 with a changed config."""
    with open(os.path.join(SOURCE_DIR, "tests", "models", source, "config.json")) as f:
        config = json.load(f)
    config.update(config_changes)
    os.mkdir(os.path.join(repo, name))
    with open(os.path.join(repo, name, "config.json"), "w") as f:
        json.dump(config, f)
    os.symlink(os.path.join(SOURCE_DIR, "tests", "models", source, "1"), os.path.join(repo, name, "1"))


def make_pid_dir():
    """A directory the workers (an unprivileged user when we are root) can write to."""
    d = tempfile.mkdtemp(prefix="modelgate-pids-")
    os.chmod(d, 0o777)
    return d


def setUpModule():
    global D, PID_DIR, STUB
    PID_DIR = make_pid_dir()
    repo = make_repository(examples=("mtcars_am", "iris_species"), test_models=("picky_py", "slow_r"))
    for name in ("spawner_py", "spawner_r"):
        add_model(repo, name, name, {"env": {"SPAWN_PID_DIR": PID_DIR}})
    add_model(repo, "roomy_py", "picky_py", {"workers": 1, "limits": {
        "open_files": 8192, "address_space_mb": "unlimited", "processes": 2048, "core_mb": 1}})
    if ROOT:
        # A version directory only root can read: the worker user cannot load it.
        os.mkdir(os.path.join(repo, "locked_py"))
        shutil.copy(os.path.join(SOURCE_DIR, "tests", "models", "picky_py", "config.json"),
                    os.path.join(repo, "locked_py", "config.json"))
        locked = os.path.join(repo, "locked_py", "1")
        os.mkdir(locked, 0o700)
        shutil.copy(os.path.join(SOURCE_DIR, "tests", "models", "picky_py", "1", "model.py"), locked)
    D = Daemon(repo)
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()
    shutil.rmtree(PID_DIR, ignore_errors=True)


# ---- processes --------------------------------------------------------------




def worker_pids(daemon, model):
    """The live workers of `model`: children of the daemon whose command line
    names the model's version directory and whose MODELGATE_WORKER_PID is
    their own pid (an orphan they left behind carries its worker's)."""
    # Workers load a snapshot of the version: <tmp>/modelgate-snapshots-XXXXXX/<model>-1-<fp>.
    snapshot = re.compile(rf"/modelgate-snapshots-[^/]+/{re.escape(model)}-1-".encode())
    pids = []
    for pid in children(daemon.proc.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if any(snapshot.search(arg) for arg in cmdline) \
                and f"MODELGATE_WORKER_PID={pid}".encode() in environ:
            pids.append(pid)
    return sorted(pids)


def spawned_by(worker_pid):
    """{file name: pid} of the processes that worker wrote into PID_DIR."""
    out = {}
    for name in os.listdir(PID_DIR):
        if name.startswith(f"{worker_pid}-"):
            try:
                with open(os.path.join(PID_DIR, name)) as f:
                    out[name] = int(f.read().strip())
            except (OSError, ValueError):
                pass  # still being written
    return out


def limits(pid):
    """{name: (soft, hard)} from /proc/<pid>/limits."""
    with open(f"/proc/{pid}/limits") as f:
        lines = f.read().splitlines()[1:]
    return {line[:26].strip(): (line[26:47].strip(), line[47:68].strip()) for line in lines}


# ---- requests and metrics ---------------------------------------------------

def x_infer(model, values, timeout_us=None, base=None):
    body = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [len(values)], "data": values}]}
    if timeout_us:
        body["parameters"] = {"timeout": timeout_us}
    return request("POST", (base or D.base) + f"/v2/models/{model}/infer", body)


def mtcars_infer(timeout_us=None):
    body = {"inputs": [{"name": "wt", "datatype": "FP64", "shape": [2], "data": [2.62, 3.2]},
                       {"name": "hp", "datatype": "FP64", "shape": [2], "data": [110, 150]}]}
    if timeout_us:
        body["parameters"] = {"timeout": timeout_us}
    return request("POST", D.base + "/v2/models/mtcars_am/infer", body)


def restarts(samples, model):
    return sum(value(samples, "modelgate_worker_restarts_total", model=model, version="1", reason=r)
               for r in ("crash", "timeout", "recycle", "malformed", "start_failed"))


def model_ready(model, base=None):
    return request("GET", (base or D.base) + f"/v2/models/{model}/ready")[0] == 200


class DeadlineGraceTest(unittest.TestCase):
    def test_thirty_1ms_deadlines_restart_no_worker_and_keep_the_breaker_closed(self):
        self.assertTrue(wait_for(lambda: model_ready("mtcars_am") and model_ready("slow_r")))
        before = scrape(D)
        pids = {m: worker_pids(D, m) for m in ("mtcars_am", "slow_r")}
        self.assertEqual(len(pids["mtcars_am"]), 2)
        self.assertEqual(len(pids["slow_r"]), 1)
        # 30 one after the other, then 30 at once: each is 200 or 504.
        statuses = [mtcars_infer(timeout_us=1000)[0] for _ in range(30)]
        burst = [None] * 30

        def one(i):
            burst[i] = mtcars_infer(timeout_us=1000)[0]
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(burst))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        statuses += burst
        self.assertTrue(set(statuses) <= {200, 504}, statuses)
        # A model that certainly runs past its 50 ms deadline (it sleeps 0.2 s;
        # 50 ms, not 1, so a busy machine cannot spend the deadline before the
        # queue), then returns within the grace: 504 every time, and its
        # worker is kept. The request without deadline after each waits for
        # that same worker.
        for _ in range(5):
            status, _, body = request("POST", D.base + "/v2/models/slow_r/infer", {
                "parameters": {"timeout": 50000},
                "inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1], "data": [0.2]}]})
            self.assertEqual(status, 504, body)
            self.assertIn("ran past its deadline", body["error"])
            status, _, body = request("POST", D.base + "/v2/models/slow_r/infer", {
                "inputs": [{"name": "seconds", "datatype": "FP64", "shape": [1], "data": [0]}]})
            self.assertEqual(status, 200, body)
        self.assertTrue(wait_for(lambda: model_ready("slow_r")))
        after = scrape(D)
        for model in ("mtcars_am", "slow_r"):
            with self.subTest(model=model):
                self.assertEqual(restarts(after, model), restarts(before, model))
                self.assertEqual(worker_pids(D, model), pids[model])
                self.assertEqual(value(after, "modelgate_circuit_breaker_state", model=model,
                                       version="1"), 0)
                self.assertTrue(model_ready(model))
        status, _, body = mtcars_infer()
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["outputs"][0]["data"]), 2)


class AbusiveClientTest(unittest.TestCase):
    def test_abusive_client_cannot_fail_a_well_behaved_one(self):
        self.assertTrue(wait_for(lambda: len(worker_pids(D, "picky_py")) == 2))
        before = scrape(D)
        pids = worker_pids(D, "picky_py")
        url = D.base + "/v2/models/picky_py/infer"

        def grpc_1ms():
            r = pb.ModelInferRequest(model_name="picky_py")
            r.inputs.add(name="x", datatype="FP64", shape=[1]).contents.fp64_contents.append(0.2)
            try:
                STUB.ModelInfer(r, timeout=0.001)
                return 200
            except grpc.RpcError as e:
                return {grpc.StatusCode.DEADLINE_EXCEEDED: 504,
                        grpc.StatusCode.INVALID_ARGUMENT: 400}.get(e.code(), str(e.code()))

        abuse = [
            lambda: x_infer("picky_py", [-1.0])[0],                      # model raises: 500
            lambda: x_infer("picky_py", [-2.0])[0],                      # model flags input: 400
            lambda: x_infer("picky_py", [0.3], timeout_us=1000)[0],      # slow, 1 ms deadline
            lambda: x_infer("picky_py", [1.0], timeout_us=1000)[0],      # 1 ms deadline
            lambda: request("POST", url, {"inputs": [                    # unknown input
                {"name": "nope", "datatype": "FP64", "shape": [1], "data": [1]}]})[0],
            lambda: request("POST", url, b'{"inputs": [')[0],            # malformed JSON
            lambda: request("POST", url, {"inputs": [                    # zero-sized
                {"name": "x", "datatype": "FP64", "shape": [0], "data": []}]})[0],
            grpc_1ms,                                                    # gRPC, 1 ms deadline
        ]
        abusive, good = [], []

        def abusive_client():
            for i in range(50):
                abusive.append(abuse[i % len(abuse)]())

        def good_client():
            for _ in range(40):
                status, _, body = x_infer("picky_py", [1.0, 2.0])
                good.append(status)
                if status == 200:
                    self.assertEqual(body["outputs"][0]["data"], [2.0, 4.0])
        threads = [threading.Thread(target=abusive_client), threading.Thread(target=good_client)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "a client never finished")
        self.assertEqual(len(abusive), 50)
        self.assertEqual(good, [200] * 40)
        # The abuse got what it asked for, and never a 503 (breaker, dead worker).
        self.assertTrue(set(abusive) <= {200, 400, 500, 504}, abusive)
        self.assertIn(500, abusive)
        self.assertIn(504, abusive)
        self.assertTrue(wait_for(lambda: model_ready("picky_py")))
        after = scrape(D)
        self.assertEqual(value(after, "modelgate_circuit_breaker_state", model="picky_py", version="1"), 0)
        self.assertEqual(restarts(after, "picky_py"), restarts(before, "picky_py"))
        self.assertEqual(worker_pids(D, "picky_py"), pids)


class ProcessHygieneTest(unittest.TestCase):
    def test_kill_9_of_a_worker_takes_its_detached_children_along(self):
        for model in ("spawner_py", "spawner_r"):
            with self.subTest(model=model):
                self.assertTrue(wait_for(lambda: model_ready(model) and len(worker_pids(D, model)) == 1))
                worker = worker_pids(D, model)[0]
                status, _, body = x_infer(model, [1.0])
                self.assertEqual(status, 200, body)
                # Two at load (own session, own group), one from the predict.
                self.assertTrue(wait_for(lambda: len(spawned_by(worker)) == 3), spawned_by(worker))
                kids = spawned_by(worker)
                self.assertTrue(all(alive(p) for p in kids.values()), kids)
                os.kill(worker, signal.SIGKILL)
                self.assertTrue(wait_for(lambda: not any(alive(p) for p in kids.values()), timeout=10),
                                {k: p for k, p in kids.items() if alive(p)})
                # The replacement serves, and its own children live on.
                self.assertTrue(wait_for(lambda: model_ready(model) and worker_pids(D, model)
                                         and worker_pids(D, model)[0] != worker))
                status, _, body = x_infer(model, [2.0])
                self.assertEqual(status, 200, body)
                new = worker_pids(D, model)[0]
                self.assertTrue(wait_for(lambda: len(spawned_by(new)) == 3), spawned_by(new))
                self.assertTrue(all(alive(p) for p in spawned_by(new).values()))

    def test_sigterm_leaves_no_process_behind(self):
        pid_dir = make_pid_dir()
        repo = make_repository(examples=())
        for name in ("spawner_py", "spawner_r"):
            add_model(repo, name, name, {"env": {"SPAWN_PID_DIR": pid_dir}})
        d = Daemon(repo)
        try:
            d.wait_ready()
            for model in ("spawner_py", "spawner_r"):
                self.assertTrue(wait_for(lambda: model_ready(model, base=d.base)))
                status, _, body = x_infer(model, [1.0], base=d.base)
                self.assertEqual(status, 200, body)
            workers = worker_pids(d, "spawner_py") + worker_pids(d, "spawner_r")
            self.assertEqual(len(workers), 2)
            self.assertTrue(wait_for(lambda: len(os.listdir(pid_dir)) == 6), os.listdir(pid_dir))
            kids = []
            for name in os.listdir(pid_dir):
                with open(os.path.join(pid_dir, name)) as f:
                    kids.append(int(f.read().strip()))
            self.assertTrue(all(alive(p) for p in kids))
            self.assertEqual(d.stop(), 0, d.log()[-3000:])
            self.assertTrue(wait_for(lambda: not any(alive(p) for p in kids + workers), timeout=10),
                            [p for p in kids + workers if alive(p)])
        finally:
            d.cleanup()
            shutil.rmtree(pid_dir, ignore_errors=True)


class WorkerPrivilegeTest(unittest.TestCase):
    @unittest.skipUnless(ROOT, "the daemon drops privileges only when it runs as root")
    def test_workers_do_not_run_as_root(self):
        for model in ("mtcars_am", "iris_species", "picky_py"):
            with self.subTest(model=model):
                pids = worker_pids(D, model)
                self.assertTrue(pids)
                for pid in pids:
                    with open(f"/proc/{pid}/status") as f:
                        status = dict(line.split(":", 1) for line in f.read().splitlines())
                    self.assertNotIn("0", status["Uid"].split(), status["Uid"])
                    self.assertNotIn("0", status["Gid"].split(), status["Gid"])
                    self.assertNotIn("0", status["Groups"].split(), status["Groups"])
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
                    home = env[b"HOME"].decode()
                    self.assertNotEqual(home, os.environ.get("HOME"))
                    self.assertEqual(os.stat(home).st_uid, int(status["Uid"].split()[0]))

    def test_default_rlimits(self):
        hard_nofile = limits(D.proc.pid)["Max open files"][1]
        expected_nofile = "4096" if ROOT or hard_nofile == "unlimited" else str(min(4096, int(hard_nofile)))
        for model in ("mtcars_am", "iris_species"):
            with self.subTest(model=model):
                for pid in worker_pids(D, model):
                    got = limits(pid)
                    self.assertEqual(got["Max core file size"], ("0", "0"))
                    self.assertEqual(got["Max open files"], (expected_nofile, expected_nofile))
                    self.assertEqual(got["Max address space"], (str(16 << 30), str(16 << 30)))
                    self.assertEqual(got["Max cpu time"], ("unlimited", "unlimited"))
                    if ROOT:
                        self.assertEqual(got["Max processes"], ("1024", "1024"))

    def test_config_raises_limits(self):
        self.assertTrue(wait_for(lambda: len(worker_pids(D, "roomy_py")) == 1))
        got = limits(worker_pids(D, "roomy_py")[0])
        self.assertEqual(got["Max address space"], ("unlimited", "unlimited"))
        self.assertEqual(got["Max core file size"], (str(1 << 20), str(1 << 20)))
        self.assertEqual(got["Max processes"], ("2048", "2048"))
        if ROOT:
            self.assertEqual(got["Max open files"], ("8192", "8192"))
        status, _, body = x_infer("roomy_py", [3.0])
        self.assertEqual(status, 200, body)

    @unittest.skipUnless(ROOT, "only a root daemon switches workers to another user")
    def test_unreadable_model_directory_is_a_load_error_naming_the_path(self):
        status, hdrs, body = x_infer("locked_py", [1.0])
        self.assertEqual(status, 503, body)
        # The snapshot keeps the version directory's mode and owner (root, 0700).
        self.assertRegex(body["error"], r"/modelgate-snapshots-[^/]+/locked_py-1-")
        self.assertIn("cannot read", body["error"])
        self.assertIn("Retry-After", hdrs)
        status, _, body = mtcars_infer()
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
