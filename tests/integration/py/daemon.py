"""Starts the real modelgate binary on free loopback ports for a test module."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

SOURCE_DIR = os.environ["MODELGATE_SOURCE_DIR"]
BINARY = os.environ["MODELGATE_BINARY"]
PYTHON = os.environ.get("MODELGATE_PYTHON", "/usr/bin/python3")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_for(predicate, timeout=30, step=0.05):
    """Polls `predicate` until it is true or `timeout` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


def alive(pid):
    """True while process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def children(pid, zombie=False):
    """Pids of the children of process `pid`: the live ones, or with
    `zombie` those that exited and were not reaped."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and (fields[0] == "Z") == zombie:
            out.append(int(entry))
    return out


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')


def scrape(d):
    """{(name, frozenset(labels)): value} of one /metrics scrape of daemon `d`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{d.metrics_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def make_repository(examples=("mtcars_am", "iris_species", "describe"), test_models=()):
    """A temporary repository of symlinks to example and test models.

    Readable by everyone: a daemon running as root runs its workers as an
    unprivileged user, which must be able to read the models.
    """
    repo = tempfile.mkdtemp(prefix="modelgate-repo-")
    os.chmod(repo, 0o755)
    for m in examples:
        os.symlink(os.path.join(SOURCE_DIR, "examples", "models", m), os.path.join(repo, m))
    for m in test_models:
        os.symlink(os.path.join(SOURCE_DIR, "tests", "models", m), os.path.join(repo, m))
    return repo


class Daemon:
    def __init__(self, repo, extra_args=(), log_format="json", preexec_fn=None):
        self.repo = repo
        self.http_port, self.grpc_port, self.metrics_port = free_ports(3)
        self.log_path = tempfile.mktemp(prefix="modelgate-", suffix=".log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [BINARY, "--model-repository", repo, "--host", "127.0.0.1",
             "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port),
             "--metrics-port", str(self.metrics_port),
             "--log-format", log_format, *extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.http_port}"

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base + "/v2/health/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daemon not ready within {timeout}s:\n{self.log()[-4000:]}")

    def metric(self, name, **labels):
        """The value of one series now (0 when absent)."""
        return value(scrape(self), name, **labels)

    def worker_pids(self, model, version="1"):
        """Pids of the model version's live workers in slot order, from the
        modelgate_worker_pid gauge (0 marks an empty slot)."""
        slots = {}
        for (name, labels), v in scrape(self).items():
            got = dict(labels)
            if name == "modelgate_worker_pid" and got.get("model") == model \
                    and got.get("version") == version and v > 0:
                slots[int(got["slot"])] = int(v)
        return [slots[k] for k in sorted(slots)]

    def wait_workers(self, model, state, n, version="1", timeout=30):
        """Waits (bounded) until `n` workers of the model are in `state`; whether they are."""
        return wait_for(lambda: self.metric("modelgate_workers", model=model, version=version,
                                            state=state) == n, timeout=timeout)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=60):
        """SIGTERM, then the exit code (killing it if it does not exit)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.repo, ignore_errors=True)


def request(method, url, body=None, headers=None, timeout=60):
    """(status, headers, parsed JSON or raw text) of one HTTP request."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw.decode("utf-8", "replace")


def reference_r_predictions(rows):
    """R's own predict(type="response") for (wt, hp) rows."""
    wt = ",".join(repr(r[0]) for r in rows)
    hp = ",".join(repr(r[1]) for r in rows)
    model = os.path.join(SOURCE_DIR, "examples", "models", "mtcars_am", "1", "model.rds")
    out = subprocess.check_output(
        ["Rscript", "-e", f'fit <- readRDS("{model}"); '
         f'cat(sprintf("%.17g", predict(fit, newdata = data.frame(wt = c({wt}), hp = c({hp})), '
         f'type = "response")), sep = "\\n")'], text=True)
    return [float(x) for x in out.split()]


def reference_sklearn(rows):
    """sklearn's own (labels, probabilities) for iris feature rows."""
    import pickle
    import numpy as np
    path = os.path.join(SOURCE_DIR, "examples", "models", "iris_species", "1", "model.pkl")
    with open(path, "rb") as f:
        clf = pickle.load(f)
    x = np.asarray(rows, dtype=np.float64)
    return clf.predict(x).tolist(), clf.predict_proba(x).tolist()
