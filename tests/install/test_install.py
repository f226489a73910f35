"""The installed layout: `cmake --install` into a temporary prefix gives a
daemon that serves the examples from there, with its worker runtimes found
beside it (no --worker-host, no path into the build tree)."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.environ["MODELGATE_SOURCE_DIR"]
BUILD = os.environ["MODELGATE_BUILD_DIR"]
CMAKE = os.environ.get("MODELGATE_CMAKE", "cmake")
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "py"))

import daemon  # noqa: E402  (after the path insert)
from daemon import Daemon, children, make_repository, reference_r_predictions, reference_sklearn, request  # noqa: E402



def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode("utf-8", "replace")


class InstalledDaemonTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prefix = tempfile.mkdtemp(prefix="modelgate-install-")
        os.chmod(cls.prefix, 0o755)  # workers of a root daemon run unprivileged
        r = subprocess.run([CMAKE, "--install", BUILD, "--prefix", cls.prefix],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"cmake --install failed:\n{r.stdout}{r.stderr}")
        cls.binary = os.path.join(cls.prefix, "bin", "modelgate")
        cls.host = os.path.join(cls.prefix, "bin", "modelgate-worker")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.prefix, ignore_errors=True)

    def test_layout_holds_the_daemon_and_the_worker_host(self):
        self.assertTrue(os.access(self.binary, os.X_OK), self.binary)
        self.assertTrue(os.access(self.host, os.X_OK), self.host)
        # The host embeds the interpreters: no runtime scripts are installed.
        self.assertFalse(os.path.exists(os.path.join(self.prefix, "share", "modelgate", "bridge")))
        self.assertTrue(os.path.isfile(os.path.join(self.prefix, "share", "doc", "modelgate", "README.md")))

    def test_installed_daemon_serves_the_examples_with_its_own_worker_host(self):
        daemon.BINARY = self.binary  # Daemon passes no --worker-host
        d = Daemon(make_repository(examples=("mtcars_am", "iris_species")))
        try:
            d.wait_ready()
            status, _, body = request("POST", d.base + "/v2/models/mtcars_am/infer", {"inputs": [
                {"name": "wt", "datatype": "FP64", "shape": [1], "data": [2.62]},
                {"name": "hp", "datatype": "FP64", "shape": [1], "data": [110.0]}]})
            self.assertEqual(status, 200, body)
            prob = {o["name"]: o["data"] for o in body["outputs"]}["prob"]
            self.assertAlmostEqual(prob[0], reference_r_predictions([(2.62, 110.0)])[0], places=12)
            rows = [[5.1, 3.5, 1.4, 0.2]]
            status, _, body = request("POST", d.base + "/v2/models/iris_species/infer", {"inputs": [
                {"name": "features", "datatype": "FP64", "shape": [1, 4], "data": rows[0]}]})
            self.assertEqual(status, 200, body)
            labels, _ = reference_sklearn(rows)
            self.assertEqual({o["name"]: o["data"] for o in body["outputs"]}["label"], labels)
            # Every worker runs the installed host, none the build tree's.
            workers = children(d.proc.pid)
            self.assertGreaterEqual(len(workers), 2)
            for pid in workers:
                line = cmdline(pid)
                self.assertTrue(line.startswith(self.host + " "), line)
                self.assertNotIn(BUILD + "/", line.split(" --model-dir")[0])
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
