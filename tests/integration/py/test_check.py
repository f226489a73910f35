"""`modelgate check REPO [--model NAME]` with the real binary and real R and
Python workers: the shipped examples pass, a repository with a broken config,
a model that fails at load, a failing example, a hanging example and a model
hanging at load fail with each reason in its row, --model narrows the check, and nothing listens."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from daemon import BINARY, PYTHON, SOURCE_DIR

EXAMPLES = os.path.join(SOURCE_DIR, "examples", "models")
# Bound of one check run (workers start in seconds; the hang is 1 s).
RUN_TIMEOUT = 300
COLUMNS = ["model", "version", "status", "load_ms", "examples", "rss_mib", "error"]


def parse_table(stdout):
    """The rows of the check's table as dicts keyed by COLUMNS."""
    lines = [l for l in stdout.splitlines() if l.strip()]
    assert lines and lines[0].split()[:len(COLUMNS)] == [c.upper() for c in COLUMNS], stdout
    return [dict(zip(COLUMNS, l.split(None, len(COLUMNS) - 1))) for l in lines[1:]]


def listening_inodes():
    """Inodes of every listening TCP socket on this machine."""
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A":  # TCP_LISTEN
                        out.add(fields[9])
        except OSError:
            pass
    return out


def socket_inodes(pid):
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(target[len("socket:["):-1])
    except OSError:
        pass
    return out


def run_check(*args):
    """Runs the check; (exit code, stdout, stderr, whether it ever listened)."""
    env = dict(os.environ, MODELGATE_PYTHON=PYTHON)
    p = subprocess.Popen([BINARY, "check", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    listened = False
    deadline = time.monotonic() + RUN_TIMEOUT
    # Sample its sockets while it runs (bounded by RUN_TIMEOUT).
    while p.poll() is None and time.monotonic() < deadline:
        if socket_inodes(p.pid) & listening_inodes():
            listened = True
        time.sleep(0.05)
    try:
        out, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        raise AssertionError(f"check did not end within {RUN_TIMEOUT} s:\n{out}\n{err}")
    return p.returncode, out, err, listened


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


PY_DOUBLE = """
import numpy as np
class Model:
    def __init__(self, model_dir):
        pass
    def predict(self, inputs):
        return {"y": np.asarray(inputs["x"], dtype=np.float64) * 2}
"""

PY_BROKEN = """
class Model:
    def __init__(self, model_dir):
        raise RuntimeError("cannot find the weights file")
    def predict(self, inputs):
        return {}
"""

PY_HANG = """
import time
class Model:
    def __init__(self, model_dir):
        pass
    def predict(self, inputs):
        time.sleep(60)
        return {"y": inputs["x"]}
"""

PY_HANG_AT_LOAD = """
import time
time.sleep(60)
class Model:
    def __init__(self, model_dir):
        pass
    def predict(self, inputs):
        return {"y": inputs["x"]}
"""

R_DOUBLE = "predict_fn <- function(inputs) list(y = inputs$x * 2)\n"

# Declares its input in code (signatures from code), as FP32.
PY_SIG_FP32 = """
import numpy as np
class Model:
    signature = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1]}]}
    def __init__(self, model_dir):
        pass
    def predict(self, inputs):
        return {"y": np.asarray(inputs["x"], dtype=np.float64) * 2}
"""


def config(backend, example_output, extra=""):
    return ('{"backend": "%s", "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1]}],'
            ' "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1]}]%s,'
            ' "examples": [{"inputs": [{"name": "x", "datatype": "FP64", "shape": [3],'
            ' "data": [1, 2, 3]}], "outputs": [{"name": "y", "data": %s}],'
            ' "tolerance": 0.001}]}' % (backend, extra, example_output))


class CheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.repo = tempfile.mkdtemp(prefix="modelgate-check-test-")
        r = cls.repo
        write(f"{r}/good/config.json", config("python", "[2, 4, 6]"))
        write(f"{r}/good/1/model.py", PY_DOUBLE)
        write(f"{r}/broken_config/config.json",
              config("python", "[2, 4, 6]", ', "workers": "two"'))
        write(f"{r}/broken_config/1/model.py", PY_DOUBLE)
        write(f"{r}/load_fails/config.json", config("python", "[2, 4, 6]"))
        write(f"{r}/load_fails/1/model.py", PY_BROKEN)
        write(f"{r}/wrong_example/config.json", config("r", "[2, 4, 7]"))
        write(f"{r}/wrong_example/1/model.R", R_DOUBLE)
        write(f"{r}/hangs/config.json",
              config("python", "[1, 2, 3]",
                     ', "default_timeout_ms": 1000, "deadline_kill_grace_ms": 100'))
        write(f"{r}/hangs/1/model.py", PY_HANG)
        write(f"{r}/hangs_at_load/config.json",
              config("python", "[1, 2, 3]", ', "startup_timeout_ms": 1500'))
        write(f"{r}/hangs_at_load/1/model.py", PY_HANG_AT_LOAD)
        # config.json says FP64, the code FP32: the check fails it, naming both.
        write(f"{r}/code_mismatch/config.json", config("python", "[2, 4, 6]"))
        write(f"{r}/code_mismatch/1/model.py", PY_SIG_FP32)
        # Inputs declared only in code: its examples are checked against them.
        write(f"{r}/code_only/config.json",
              '{"backend": "python", "examples": [{"inputs": [{"name": "x", "datatype": "FP32",'
              ' "shape": [3], "data": [1, 2, 3]}], "outputs": [{"name": "y", "data": [2, 4, 6]}]},'
              ' {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}],'
              ' "outputs": [{"name": "y", "data": [2]}]}]}')
        write(f"{r}/code_only/1/model.py", PY_SIG_FP32)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.repo, ignore_errors=True)

    def test_shipped_examples_pass_without_binding_a_port(self):
        # The daemon's default ports, held here: a check that tried to bind
        # them would fail; it must pass anyway.
        held = []
        for port in (8000, 8001, 8002):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
                s.listen(1)
                held.append(s)
            except OSError:
                s.close()  # taken by someone else: as good for this test
        try:
            code, out, err, listened = run_check(EXAMPLES)
        finally:
            for s in held:
                s.close()
        self.assertEqual(code, 0, out + err)
        self.assertFalse(listened, "modelgate check opened a listening socket")
        rows = parse_table(out)
        versions = sorted((m, v) for m in os.listdir(EXAMPLES)
                          if os.path.isfile(os.path.join(EXAMPLES, m, "config.json"))
                          for v in os.listdir(os.path.join(EXAMPLES, m)) if v.isdigit())
        self.assertEqual(sorted((r["model"], r["version"]) for r in rows), versions)
        for row in rows:
            self.assertEqual(row["status"], "ok", row)
            self.assertEqual(row["error"], "-", row)
            self.assertGreater(int(row["load_ms"]), 0, row)
            self.assertGreater(float(row["rss_mib"]), 1.0, row)
            passed, total = map(int, row["examples"].split("/"))
            self.assertEqual(passed, total, row)
        by_model = {r["model"]: r for r in rows}
        # One R and one Python example model ship examples that really run.
        self.assertEqual(by_model["mtcars_am"]["examples"], "1/1")
        self.assertEqual(by_model["iris_species"]["examples"], "1/1")

    def test_bad_models_are_reported_each_with_its_reason(self):
        code, out, err, listened = run_check(self.repo)
        self.assertEqual(code, 1, out + err)
        self.assertFalse(listened)
        rows = {r["model"]: r for r in parse_table(out)}
        self.assertEqual(sorted(rows), ["broken_config", "code_mismatch", "code_only", "good",
                                        "hangs", "hangs_at_load", "load_fails",
                                        "wrong_example"])
        self.assertEqual(rows["good"]["status"], "ok", rows["good"])
        self.assertEqual(rows["good"]["examples"], "1/1")

        broken = rows["broken_config"]
        self.assertEqual((broken["status"], broken["version"], broken["load_ms"]),
                         ("FAIL", "-", "-"), broken)
        self.assertIn("broken_config/config.json: key 'workers'", broken["error"])

        load = rows["load_fails"]
        self.assertEqual((load["status"], load["version"], load["load_ms"]), ("FAIL", "1", "-"))
        self.assertIn("cannot find the weights file", load["error"])

        wrong = rows["wrong_example"]
        self.assertEqual((wrong["status"], wrong["examples"]), ("FAIL", "0/1"), wrong)
        self.assertIn("example 0: output 'y' element 2: expected 7, got 6 (tolerance 0.001)",
                      wrong["error"])

        hang = rows["hangs"]
        self.assertEqual((hang["status"], hang["examples"]), ("FAIL", "0/1"), hang)
        self.assertIn("example 0:", hang["error"])
        self.assertIn("deadline", hang["error"].lower())

        mismatch = rows["code_mismatch"]
        self.assertEqual((mismatch["status"], mismatch["load_ms"]), ("FAIL", "-"), mismatch)
        for part in ("input 'x'", "config.json declares FP64", "model.py declares FP32"):
            self.assertIn(part, mismatch["error"])

        # The first example matches the code's FP32 input and passes; the
        # second sends FP64, which the code's signature refuses.
        code_only = rows["code_only"]
        self.assertEqual((code_only["status"], code_only["examples"]), ("FAIL", "1/2"), code_only)
        self.assertIn("example 1:", code_only["error"])
        self.assertIn("FP32", code_only["error"])

        # A model that never finishes loading: bounded by its startup_timeout_ms.
        stuck = rows["hangs_at_load"]
        self.assertEqual((stuck["status"], stuck["load_ms"]), ("FAIL", "-"), stuck)
        self.assertIn("no Hello within 1500 ms", stuck["error"])

    def test_model_flag_checks_only_that_model(self):
        code, out, err, _ = run_check(self.repo, "--model", "good")
        self.assertEqual(code, 0, out + err)
        self.assertEqual([(r["model"], r["status"]) for r in parse_table(out)], [("good", "ok")])
        code, out, err, _ = run_check(self.repo, "--model", "wrong_example")
        self.assertEqual(code, 1, out + err)
        self.assertEqual([r["model"] for r in parse_table(out)], ["wrong_example"])
        code, out, err, _ = run_check(self.repo, "--model", "absent")
        self.assertEqual(code, 1, out + err)
        self.assertIn("no model directory", parse_table(out)[0]["error"])

    def test_json_format_for_ci(self):
        code, out, err, _ = run_check(self.repo, "--model", "wrong_example", "--format", "json")
        self.assertEqual(code, 1, out + err)
        rows = json.loads(out)
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual((row["model"], row["version"], row["ok"]), ("wrong_example", "1", False))
        self.assertEqual((row["examples_passed"], row["examples_total"]), (0, 1))
        self.assertGreater(row["load_ms"], 0)
        self.assertGreater(row["rss_mib"], 1.0)
        self.assertIn("output 'y' element 2: expected 7, got 6", row["error"])
        self.assertEqual(run_check(self.repo, "--format", "xml")[0], 2)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run_check()[0], 2)
        self.assertEqual(run_check(self.repo, "--model", "../x")[0], 2)
        self.assertEqual(run_check(os.path.join(self.repo, "nowhere"))[0], 2)
        code, out, err, _ = run_check("--help")
        self.assertEqual(code, 0)
        self.assertIn("modelgate check REPO", out)


if __name__ == "__main__":
    unittest.main()
