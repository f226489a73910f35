"""Support for test_lifecycle.py (and benchmarks/reload_under_load.py): model
repositories written on the fly, a bounded continuous REST + gRPC load, and
process checks on the daemon's children.

Every test model answers an output `code` (a constant written into its
source) beside an echo of `x`, so each answer says which code produced it.
"""

import http.client
import json
import os
import shutil
import tempfile
import threading
import time
from collections import namedtuple

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import alive, children, request, scrape

ROUTE_KEY_HEADER = "x-modelgate-route-key"  # REST header and gRPC metadata key

PY_MODEL = '''"""Lifecycle test model: echoes x, answers its CODE and its call count."""
import numpy as np

CODE = {code}
CALLS = 0


class Model:
    def __init__(self, model_dir):
        {init}

    def predict(self, inputs):
        global CALLS
        CALLS += 1
        x = inputs["x"]
        if x.size and x.flat[0] == {reject}:
            raise ValueError("lifecycle test model rejects x = {reject}")
        return {{"y": x, "code": np.array([CODE], dtype=np.int64),
                "calls": np.array([CALLS], dtype=np.int64)}}
'''

R_MODEL = '''# Lifecycle test model: echoes x and answers its CODE.
CODE <- {code}
predict_fn <- function(inputs) {{
  list(y = inputs$x, code = CODE)
}}
'''

REJECTED_X = -7.0  # the x every test model raises on (a failing warm-up)


def x_input(value=1.0):
    return [{"name": "x", "datatype": "FP64", "shape": [1], "data": [value]}]


def model_config(backend="python", workers=1, **extra):
    return {"backend": backend, "workers": workers, "max_queue_size": 1024,
            "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}], **extra}


def model_source(code, backend="python", init_error=None):
    if backend == "r":
        return "model.R", R_MODEL.format(code=code)
    init = f"raise RuntimeError({init_error!r})" if init_error else "pass"
    return "model.py", PY_MODEL.format(code=code, init=init, reject=REJECTED_X)


def _write_atomic(path, text, stage_dir):
    """Replaces `path` in one rename from `stage_dir` (same file system; a
    poll never sees half a file); world readable: a root daemon runs its
    workers as an unprivileged user."""
    fd, tmp = tempfile.mkstemp(dir=stage_dir)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


class Repository:
    """A temporary model repository of generated models. The staging files
    live beside it (same file system, so every change is one rename)."""

    def __init__(self):
        self.parent = tempfile.mkdtemp(prefix="modelgate-lifecycle-")
        os.chmod(self.parent, 0o755)
        self.path = os.path.join(self.parent, "repo")
        os.mkdir(self.path, 0o755)

    def write_config(self, model, config, version=None):
        d = os.path.join(self.path, model, *([str(version)] if version else []))
        os.makedirs(d, 0o755, exist_ok=True)
        _write_atomic(os.path.join(d, "config.json"), json.dumps(config, indent=1), self.parent)

    def write_code(self, model, version, code, backend="python", init_error=None):
        d = os.path.join(self.path, model, str(version))
        os.makedirs(d, 0o755, exist_ok=True)
        name, text = model_source(code, backend, init_error)
        _write_atomic(os.path.join(d, name), text, self.parent)

    def add_model(self, model, config, versions):
        """Builds the model dir aside, then renames it in whole.
        `versions`: {version: code}."""
        stage = tempfile.mkdtemp(dir=self.parent)
        os.chmod(stage, 0o755)
        with open(os.path.join(stage, "config.json"), "w") as f:
            json.dump(config, f)
        for v, code in versions.items():
            os.mkdir(os.path.join(stage, str(v)), 0o755)
            name, text = model_source(code, config["backend"])
            with open(os.path.join(stage, str(v), name), "w") as f:
                f.write(text)
        os.rename(stage, os.path.join(self.path, model))

    def remove_model(self, model):
        gone = tempfile.mkdtemp(dir=self.parent)
        os.rename(os.path.join(self.path, model), os.path.join(gone, model))
        shutil.rmtree(gone)

    def cleanup(self):
        shutil.rmtree(self.parent, ignore_errors=True)


# ---- the daemon's answers ---------------------------------------------------

def infer(d, model, version=None, x=1.0, route_key=None):
    """(status, model_version, code, body) of one REST infer."""
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    headers = {"Content-Type": "application/json"}
    if route_key is not None:
        headers[ROUTE_KEY_HEADER] = route_key
    status, _, body = request("POST", d.base + path, {"inputs": x_input(x)}, headers=headers)
    if status != 200:
        return status, None, None, body
    return status, body["model_version"], rest_code(body), body


def rest_code(body):
    """The answer's `code` output (None for a model without one)."""
    out = [o for o in body["outputs"] if o["name"] == "code"]
    return int(out[0]["data"][0]) if out else None


def grpc_code(resp):
    """The answer's `code` output (None for a model without one)."""
    for i, o in enumerate(resp.outputs):
        if o.name != "code":
            continue
        if len(resp.raw_output_contents) > i:
            dtype = {"INT64": "<i8", "INT32": "<i4", "FP64": "<f8"}[o.datatype]
            return int(np.frombuffer(resp.raw_output_contents[i], dtype=dtype)[0])
        c = o.contents
        for field in (c.int64_contents, c.int_contents, c.fp64_contents, c.fp32_contents):
            if len(field):
                return int(field[0])
        raise AssertionError(f"empty code output in {resp}")
    return None


def grpc_request(model, version, inputs):
    """A ModelInferRequest of V2 JSON `inputs` (FP64 only) as typed contents."""
    req = pb.ModelInferRequest(model_name=model, model_version=version or "")
    for i in inputs:
        assert i["datatype"] == "FP64", i
        t = req.inputs.add(name=i["name"], datatype="FP64", shape=i["shape"])
        t.contents.fp64_contents.extend(i["data"])
    return req


def load(d, model, config=None):
    """(status, body, sent, returned) of a repository load; times are monotonic."""
    body = b"" if config is None else {"parameters": {"config": json.dumps(config)}}
    sent = time.monotonic()
    status, _, answer = request("POST", d.base + f"/v2/repository/models/{model}/load", body,
                                timeout=180)
    return status, answer, sent, time.monotonic()


def unload(d, model):
    sent = time.monotonic()
    status, _, answer = request("POST", d.base + f"/v2/repository/models/{model}/unload", b"",
                                timeout=180)
    return status, answer, sent, time.monotonic()


def index(d):
    status, _, body = request("POST", d.base + "/v2/repository/index", b"")
    assert status == 200, body
    return body


def index_entry(d, model, version):
    entries = [e for e in index(d) if e["name"] == model and str(e.get("version")) == str(version)]
    return entries[0] if entries else None


def model_info_fingerprints(d, model, version):
    """fingerprint labels of the modelgate_model_info series at 1."""
    return [dict(labels)["fingerprint"] for (name, labels), v in scrape(d).items()
            if name == "modelgate_model_info" and v == 1
            and ("model", model) in labels and ("version", str(version)) in labels]


def model_states(d, model, version):
    """state labels of modelgate_model_state at 1 (lower-cased)."""
    return [dict(labels)["state"].lower() for (name, labels), v in scrape(d).items()
            if name == "modelgate_model_state" and v == 1
            and ("model", model) in labels and ("version", str(version)) in labels]


# ---- processes ----------------------------------------------------------------

def process_report(d, old_pids=()):
    return {"children": sorted(children(d.proc.pid)), "zombies": children(d.proc.pid, zombie=True),
            "old pids alive": [p for p in old_pids if alive(p)]}


def settled(d, workers, old_pids=()):
    """True when the daemon has exactly `workers` live children, no zombie
    child, and none of `old_pids` lives on (neither under the daemon nor
    orphaned to init)."""
    return (len(children(d.proc.pid)) == workers and not children(d.proc.pid, zombie=True)
            and not any(alive(p) for p in old_pids))


# ---- load ---------------------------------------------------------------------

Answer = namedtuple("Answer", "proto sent answered status version code error")
OK = 200


class Load:
    """Continuous closed-loop load on one model from `rest` keep-alive REST
    threads and `grpc_threads` gRPC threads sending `inputs` (V2 JSON, FP64;
    default x = [1]), each request recorded with its
    send and answer time (monotonic), status (HTTP status; gRPC: 200 for OK,
    else the code's name), model_version and code. Bounded: it stops at
    stop(), after MAX_REQUESTS answers or after MAX_SECONDS."""

    MAX_REQUESTS = 100000
    MAX_SECONDS = 150
    REQUEST_TIMEOUT_S = 60
    PAUSE_S = 0.002  # between one thread's requests: load, not saturation of 2 cores

    def __init__(self, d, model, rest=2, grpc_threads=1, version=None, route_key=None,
                 inputs=None):
        self.d, self.model, self.version, self.route_key = d, model, version, route_key
        self.inputs = inputs or x_input()
        self.answers = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._deadline = time.monotonic() + self.MAX_SECONDS
        self._threads = ([threading.Thread(target=self._rest, daemon=True) for _ in range(rest)]
                         + [threading.Thread(target=self._grpc, daemon=True)
                            for _ in range(grpc_threads)])

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join(self.REQUEST_TIMEOUT_S + 5)
        return self.answers

    def count(self):
        with self._lock:
            return len(self.answers)

    def wait_answers(self, n, timeout=30):
        """Waits (bounded) until `n` more answers than now have come."""
        target = self.count() + n
        deadline = time.monotonic() + timeout
        while self.count() < target and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.count() >= target

    def _running(self):
        return (not self._stop.is_set() and time.monotonic() < self._deadline
                and self.count() < self.MAX_REQUESTS)

    def _record(self, *fields):
        with self._lock:
            self.answers.append(Answer(*fields))

    def _rest(self):
        path = f"/v2/models/{self.model}" + (f"/versions/{self.version}" if self.version else "") \
            + "/infer"
        body = json.dumps({"inputs": self.inputs})
        headers = {"Content-Type": "application/json"}
        if self.route_key is not None:
            headers[ROUTE_KEY_HEADER] = self.route_key
        conn = None
        while self._running():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.d.http_port,
                                                  timeout=self.REQUEST_TIMEOUT_S)
            sent = time.monotonic()
            try:
                conn.request("POST", path, body, headers)
                r = conn.getresponse()
                raw = r.read()
                answered = time.monotonic()
                parsed = json.loads(raw)
                if r.status == 200:
                    self._record("rest", sent, answered, 200, parsed["model_version"],
                                 rest_code(parsed), None)
                else:
                    self._record("rest", sent, answered, r.status, None, None,
                                 parsed.get("error"))
                if r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException, ValueError) as e:
                self._record("rest", sent, time.monotonic(), -1, None, None, repr(e))
                conn.close()
                conn = None
            time.sleep(self.PAUSE_S)
        if conn is not None:
            conn.close()

    def _grpc(self):
        channel = grpc.insecure_channel(f"127.0.0.1:{self.d.grpc_port}")
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        req = grpc_request(self.model, self.version, self.inputs)
        metadata = ((ROUTE_KEY_HEADER, self.route_key),) if self.route_key is not None else ()
        while self._running():
            sent = time.monotonic()
            try:
                resp = stub.ModelInfer(req, timeout=self.REQUEST_TIMEOUT_S, metadata=metadata)
                self._record("grpc", sent, time.monotonic(), 200, resp.model_version,
                             grpc_code(resp), None)
            except grpc.RpcError as e:
                self._record("grpc", sent, time.monotonic(), e.code().name, None, None,
                             e.details())
            time.sleep(self.PAUSE_S)
        channel.close()


def failures(answers):
    return [a for a in answers if a.status != OK]


def is_unavailable(a):
    return a.status in (503, "UNAVAILABLE")
