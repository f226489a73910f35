"""Dynamic batching with real R and Python workers: under concurrent load the
answers of models batching with a delay (mtcars_batched, iris_batched) and
of the examples batching opportunistically (max_queue_delay_us 0) equal each
other and R's and sklearn's own, and batches of more than one request really
formed in both."""

import random
import threading
import unittest

import numpy as np

from daemon import (Daemon, make_repository, reference_r_predictions, reference_sklearn, request,
                    scrape, value)

CALLERS = 32
PER_CALLER = 6


class BatchingTest(unittest.TestCase):
    def test_batched_answers_equal_unbatched_under_concurrency(self):
        d = Daemon(make_repository(examples=("mtcars_am", "iris_species"),
                                   test_models=("mtcars_batched", "iris_batched")))
        try:
            d.wait_ready()
            rng = random.Random(11)
            cases = []
            for c in range(CALLERS * PER_CALLER):
                n = rng.randint(1, 3)
                if c % 2 == 0:
                    rows = [(round(rng.uniform(1.5, 5.5), 3), float(rng.randint(50, 330))) for _ in range(n)]
                    cases.append(("mtcars", rows))
                else:
                    rows = [[round(rng.uniform(4, 8), 1), round(rng.uniform(2, 4.5), 1),
                             round(rng.uniform(1, 7), 1), round(rng.uniform(0.1, 2.5), 1)] for _ in range(n)]
                    cases.append(("iris", rows))
            mt_rows = [r for kind, rows in cases if kind == "mtcars" for r in rows]
            mt_ref = iter(reference_r_predictions(mt_rows))
            iris_rows = [r for kind, rows in cases if kind == "iris" for r in rows]
            labels, probs = reference_sklearn(iris_rows)
            labels, probs = iter(labels), iter(probs)
            expected = []
            for kind, rows in cases:
                if kind == "mtcars":
                    expected.append([next(mt_ref) for _ in rows])
                else:
                    expected.append(([next(labels) for _ in rows], [next(probs) for _ in rows]))

            def infer(model, kind, rows):
                if kind == "mtcars":
                    body = {"inputs": [
                        {"name": "wt", "datatype": "FP64", "shape": [len(rows)], "data": [r[0] for r in rows]},
                        {"name": "hp", "datatype": "FP64", "shape": [len(rows)], "data": [r[1] for r in rows]}]}
                else:
                    body = {"inputs": [{"name": "features", "datatype": "FP64", "shape": [len(rows), 4],
                                        "data": rows}]}
                status, _, out = request("POST", d.base + f"/v2/models/{model}/infer", body)
                assert status == 200, out
                return {o["name"]: o for o in out["outputs"]}

            failures = []

            def caller(c):
                for i in range(PER_CALLER):
                    k = c * PER_CALLER + i
                    kind, rows = cases[k]
                    batched = "mtcars_batched" if kind == "mtcars" else "iris_batched"
                    plain = "mtcars_am" if kind == "mtcars" else "iris_species"
                    try:
                        got_b = infer(batched, kind, rows)
                        got_p = infer(plain, kind, rows)
                        if kind == "mtcars":
                            self.assertEqual(got_b["prob"]["shape"], [len(rows)])
                            self.assertEqual(got_b["prob"]["data"], got_p["prob"]["data"])
                            np.testing.assert_allclose(got_b["prob"]["data"], expected[k], atol=1e-12)
                        else:
                            self.assertEqual(got_b["label"]["data"], got_p["label"]["data"])
                            self.assertEqual(got_b["label"]["data"], expected[k][0])
                            self.assertEqual(got_b["probabilities"]["shape"], [len(rows), 3])
                            np.testing.assert_allclose(
                                np.reshape(got_b["probabilities"]["data"], (-1, 3)), expected[k][1], atol=1e-12)
                    except Exception as e:  # noqa: BLE001 -- collected and asserted below
                        failures.append(f"case {k}: {e!r}")

            def run_callers(target, timeout):
                """CALLERS threads running target(c); all must end, none may fail."""
                threads = [threading.Thread(target=target, args=(c,)) for c in range(CALLERS)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=timeout)
                self.assertFalse(any(t.is_alive() for t in threads))
                self.assertEqual(failures, [])

            run_callers(caller, 300)
            samples = scrape(d)
            for model in ("mtcars_batched", "iris_batched"):
                calls = value(samples, "modelgate_batch_size_count", model=model, version="1")
                requests = value(samples, "modelgate_batch_size_sum", model=model, version="1")
                self.assertEqual(requests, CALLERS * PER_CALLER / 2)  # every request in exactly one call
                self.assertLess(calls, requests, f"{model}: no batch of more than one request formed")
            # The examples batch opportunistically (max_queue_delay_us 0): they
            # never wait for company, yet concurrent callers on 2 workers form
            # batches. A fast model (sklearn, ~50 us a call) may serve the mixed
            # load above without a queue ever forming, so bursts of callers
            # released together follow until a batch forms (at most 20).
            for model, kind, rows in (("mtcars_am", "mtcars", cases[0][1]),
                                      ("iris_species", "iris", cases[1][1])):
                calls = value(samples, "modelgate_batch_size_count", model=model, version="1")
                requests = value(samples, "modelgate_batch_size_sum", model=model, version="1")
                self.assertEqual(requests, CALLERS * PER_CALLER / 2)
                for _ in range(20):
                    if calls < requests:
                        break
                    barrier = threading.Barrier(CALLERS)

                    def burst(_):
                        try:
                            barrier.wait(timeout=60)
                            infer(model, kind, rows)
                        except Exception as e:  # noqa: BLE001 -- collected and asserted below
                            failures.append(f"burst on {model}: {e!r}")

                    run_callers(burst, 120)
                    samples = scrape(d)
                    before = requests
                    calls = value(samples, "modelgate_batch_size_count", model=model, version="1")
                    requests = value(samples, "modelgate_batch_size_sum", model=model, version="1")
                    self.assertEqual(requests, before + CALLERS)  # every request in exactly one call
                self.assertLess(calls, requests, f"{model}: no batch of more than one request formed")
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
