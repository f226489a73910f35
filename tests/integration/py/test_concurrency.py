"""64 concurrent callers across both models and both protocols; every answer correct."""

import random
import threading
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, reference_r_predictions, reference_sklearn, request

CALLERS = 64
REQUESTS_PER_CALLER = 8


class ConcurrencyTest(unittest.TestCase):
    def test_64_callers_get_correct_answers(self):
        d = Daemon(make_repository())
        try:
            d.wait_ready()
            rng = random.Random(7)
            mt_rows = [(round(rng.uniform(1.5, 5.5), 3), float(rng.randint(50, 330))) for _ in range(40)]
            mt_expected = reference_r_predictions(mt_rows)
            iris_rows = [[round(rng.uniform(4, 8), 1), round(rng.uniform(2, 4.5), 1),
                          round(rng.uniform(1, 7), 1), round(rng.uniform(0.1, 2.5), 1)] for _ in range(40)]
            iris_labels, iris_probs = reference_sklearn(iris_rows)
            channel = grpc.insecure_channel(f"127.0.0.1:{d.grpc_port}")
            stub = pb_grpc.GRPCInferenceServiceStub(channel)
            failures = []
            answered = [0]
            lock = threading.Lock()

            def one(caller, i):
                k = (caller * REQUESTS_PER_CALLER + i) % 40
                use_grpc = caller % 2 == 0
                if caller % 4 < 2:  # R model
                    wt, hp = mt_rows[k]
                    if use_grpc:
                        r = pb.ModelInferRequest(model_name="mtcars_am")
                        r.inputs.add(name="wt", datatype="FP64", shape=[1])
                        r.inputs.add(name="hp", datatype="FP64", shape=[1])
                        r.raw_input_contents.extend([np.float64(wt).tobytes(), np.float64(hp).tobytes()])
                        got = np.frombuffer(stub.ModelInfer(r, timeout=60).raw_output_contents[0], "<f8")[0]
                    else:
                        status, _, body = request("POST", d.base + "/v2/models/mtcars_am/infer", {"inputs": [
                            {"name": "wt", "datatype": "FP64", "shape": [1], "data": [wt]},
                            {"name": "hp", "datatype": "FP64", "shape": [1], "data": [hp]}]})
                        assert status == 200, body
                        got = body["outputs"][0]["data"][0]
                    assert abs(got - mt_expected[k]) < 1e-12, (got, mt_expected[k])
                else:  # Python model
                    if use_grpc:
                        r = pb.ModelInferRequest(model_name="iris_species")
                        t = r.inputs.add(name="features", datatype="FP64", shape=[1, 4])
                        t.contents.fp64_contents.extend(iris_rows[k])
                        resp = stub.ModelInfer(r, timeout=60)
                        label = resp.outputs[0].contents.int64_contents[0]
                        probs = list(resp.outputs[1].contents.fp64_contents)
                    else:
                        status, _, body = request("POST", d.base + "/v1/models/iris_species:predict",
                                                  {"instances": [iris_rows[k]]})
                        assert status == 200, body
                        label = body["predictions"][0]["label"]
                        probs = body["predictions"][0]["probabilities"]
                    assert label == iris_labels[k], (label, iris_labels[k])
                    assert np.allclose(probs, iris_probs[k], atol=1e-12)

            def caller(c):
                for i in range(REQUESTS_PER_CALLER):
                    try:
                        one(c, i)
                        with lock:
                            answered[0] += 1
                    except Exception as e:  # noqa: BLE001 -- collected and asserted below
                        with lock:
                            failures.append(f"caller {c} request {i}: {e!r}")

            threads = [threading.Thread(target=caller, args=(c,)) for c in range(CALLERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            self.assertFalse(any(t.is_alive() for t in threads), "a caller hung")
            self.assertEqual(failures, [])
            self.assertEqual(answered[0], CALLERS * REQUESTS_PER_CALLER)
            status, _, _ = request("GET", d.base + "/v2/health/ready")
            self.assertEqual(status, 200)
        finally:
            self.assertEqual(d.stop(), 0)
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
