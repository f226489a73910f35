"""The README's own commands, as written: `make run` (with the port
variables the README documents) serves the examples, the Quickstart's curl
commands answer, and its Python gRPC client prints an answer. Only the
ports (free ones, through the Makefile variables the README documents) and
the client's stub directory are changed; the README's own ports must be
the Makefile's defaults.

`make run` first does what it always does (packages, `cmake --build` of
the daemon, the example models): after `make test`'s own build, that is
nothing."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

SOURCE = os.environ["MODELGATE_SOURCE_DIR"]
BUILD = os.environ["MODELGATE_BUILD_DIR"]
START_TIMEOUT_S = 300  # `make run` checks packages, the build and the models first


def free_ports(n):
    """n distinct free ports: every socket stays bound until all are chosen."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def readme_blocks(section, language):
    """The fenced `language` blocks of README.md's `## section`, in order."""
    with open(os.path.join(SOURCE, "README.md")) as f:
        text = f.read()
    start = text.index(f"\n## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start:end if end != -1 else len(text)]
    return re.findall(rf"```{language}\n(.*?)```", body, re.S)


def shell_commands(block):
    """One string per command: continuation lines (after `\\` or inside an
    open quote) join the command they continue; comments are dropped."""
    commands, current = [], ""
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line + "\n"
        if not line.endswith("\\") and current.count("'") % 2 == 0:
            commands.append(current)
            current = ""
    if current:
        commands.append(current)
    return commands


class ReadmeQuickstartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.http, cls.grpc, cls.metrics = free_ports(3)
        with tempfile.NamedTemporaryFile(prefix="make-run-", suffix=".log", delete=False) as f:
            cls.log_path = f.name
        try:
            cls.start()
        except BaseException:
            os.unlink(cls.log_path)
            raise

    @classmethod
    def start(cls):
        with open(cls.log_path, "wb") as log:
            cls.make = subprocess.Popen(
                ["make", "--no-print-directory", "-C", SOURCE, "run", f"BUILD={BUILD}",
                 f"HTTP_PORT={cls.http}", f"GRPC_PORT={cls.grpc}", f"METRICS_PORT={cls.metrics}"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if cls.make.poll() is not None:
                cls.stop()
                raise AssertionError(f"`make run` exited with {cls.make.returncode}:\n{cls.output()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{cls.http}/v2/health/ready",
                                            timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        cls.stop()
        raise AssertionError(f"`make run` not ready in {START_TIMEOUT_S} s:\n{cls.output()}")

    @classmethod
    def output(cls):
        with open(cls.log_path, errors="replace") as f:
            return f.read()[-6000:]

    @classmethod
    def stop(cls):
        """SIGTERM to make and the daemon (one process group): the daemon
        drains and exits; SIGKILL only if it has not within a minute."""
        try:
            os.killpg(cls.make.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cls.make.poll()  # reaps make, so only the daemon keeps the group alive
            try:
                os.killpg(cls.make.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        os.killpg(cls.make.pid, signal.SIGKILL)
        cls.make.wait()
        raise AssertionError(f"`make run` did not stop within 60 s of SIGTERM:\n{cls.output()}")

    @classmethod
    def tearDownClass(cls):
        try:
            cls.stop()
        finally:
            os.unlink(cls.log_path)

    def test_readme_ports_are_the_makefiles_defaults(self):
        with open(os.path.join(SOURCE, "Makefile")) as f:
            makefile = f.read()
        defaults = {k: re.search(rf"^{k} \?= (\d+)$", makefile, re.M).group(1)
                    for k in ("HTTP_PORT", "GRPC_PORT", "METRICS_PORT")}
        self.assertEqual(defaults, {"HTTP_PORT": "8000", "GRPC_PORT": "8001", "METRICS_PORT": "8002"})
        with open(os.path.join(SOURCE, "README.md")) as f:
            self.assertIn("REST on port 8000, gRPC on\n8001, metrics on 8002", f.read())

    def test_quickstart_curl_commands_answer(self):
        block = readme_blocks("Quickstart", "sh")[0]
        commands = shell_commands(block)
        self.assertGreaterEqual(len(commands), 5, block)
        for command in commands:
            self.assertIn("localhost:8000", command)
            # The README's command with this test's port; --fail-with-body
            # makes an error status a failure and still shows its body.
            local = command.replace("localhost:8000", f"localhost:{self.http}").replace(
                "curl -s", "curl -s --fail-with-body", 1)
            r = subprocess.run(["bash", "-c", local], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, f"{command}\n{r.stdout}{r.stderr}")
            if "/infer" in command:
                outputs = json.loads(r.stdout)["outputs"]
                self.assertTrue(outputs and all(o["data"] for o in outputs), r.stdout)
            elif ":predict" in command:
                instances = json.loads(re.search(r"-d '(.*)'", command, re.S).group(1))["instances"]
                predictions = json.loads(r.stdout)["predictions"]
                self.assertEqual(len(predictions), len(instances), r.stdout)
            elif "/v2/models/" in command:
                self.assertEqual(json.loads(r.stdout)["name"], "mtcars_am", r.stdout)

    def test_quickstart_grpc_client_prints_the_answer(self):
        block = readme_blocks("Quickstart", "sh")[1]
        self.assertIn("127.0.0.1:8001", block)
        stubs = tempfile.mkdtemp(prefix="readme-stubs-")
        try:
            local = block.replace("127.0.0.1:8001", f"127.0.0.1:{self.grpc}").replace(
                "/tmp/stubs", stubs)
            r = subprocess.run(["bash", "-c", "set -e\n" + local], cwd=SOURCE,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, f"{r.stdout}{r.stderr}")
            # `print([names], probabilities)`: the output names, then the
            # three class probabilities of the one row.
            names, _, values = r.stdout.strip().partition("] ")
            self.assertEqual(names + "]", "['label', 'probabilities']", r.stdout)
            probabilities = [float(v) for v in values.strip("[]").split()]
            self.assertEqual(len(probabilities), 3, r.stdout)
            self.assertAlmostEqual(sum(probabilities), 1.0, places=6, msg=r.stdout)
        finally:
            shutil.rmtree(stubs, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
