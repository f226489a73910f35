"""SIGTERM: the daemon exits 0 and leaves no worker process behind."""

import json
import os
import unittest

from daemon import Daemon, make_repository, request, wait_for


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes only once reaped; check its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class ShutdownTest(unittest.TestCase):
    def test_sigterm_exits_zero_and_reaps_workers(self):
        d = Daemon(make_repository())
        try:
            d.wait_ready()
            status, _, _ = request("POST", d.base + "/v1/models/mtcars_am:predict",
                                   {"instances": [{"wt": 2.5, "hp": 100}]})
            self.assertEqual(status, 200)
            for line in d.log().splitlines():
                try:
                    json.loads(line)
                except ValueError:
                    self.fail(f"log line is not JSON: {line!r}")

            def worker_pids():
                return set(d.worker_pids("mtcars_am") + d.worker_pids("iris_species")
                           + d.worker_pids("describe"))
            self.assertTrue(wait_for(lambda: len(worker_pids()) == 5))  # 2 mtcars + 2 iris + 1 describe
            pids = worker_pids()
            self.assertTrue(all(pid_alive(p) for p in pids))
            self.assertEqual(d.stop(), 0)
            self.assertEqual([p for p in pids if pid_alive(p)], [])
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
