"""Input drift with the real daemon and the iris model: its reference comes
from the iris training data (`make models`, tools/drift_reference.R); live
traffic drawn from that data keeps PSI low, traffic shifted on one input
raises it above the alert threshold (0.2) on that input and not on others.
An R data-frame model with a BYTES input, its reference written by the
Python helper, counts unknown categories as "_other". A bad reference fails
the load, naming the file and the key."""

import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np
from sklearn.datasets import load_iris

from daemon import Daemon, request, scrape, value

SOURCE_DIR = os.environ["MODELGATE_SOURCE_DIR"]
sys.path.insert(0, os.path.join(SOURCE_DIR, "tools"))
from drift_reference import write_drift_reference  # noqa: E402

WINDOW = 300
INPUTS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
ALERT = 0.2  # ModelgateInputDrift's threshold (prometheus-rules.yaml)
MODEL_DIR = os.path.join(SOURCE_DIR, "examples", "models", "iris_species")
# The categorical model's training data: x numeric, s three categories.
CATS_X = np.arange(100.0)
CATS_S = ["a"] * 50 + ["b"] * 30 + ["c"] * 20


def make_repo():
    """A repository with a copy of the iris example (window WINDOW)."""
    repo = tempfile.mkdtemp(prefix="modelgate-drift-")
    os.chmod(repo, 0o755)
    shutil.copytree(MODEL_DIR, os.path.join(repo, "iris"))
    path = os.path.join(repo, "iris", "config.json")
    with open(path) as f:
        config = json.load(f)
    config["drift"]["window"] = WINDOW
    config["workers"] = 1
    with open(path, "w") as f:
        json.dump(config, f)
    # An R data-frame model with a numeric and a BYTES input.
    cats = os.path.join(repo, "cats")
    shutil.copytree(os.path.join(SOURCE_DIR, "tests", "models", "inputs_df_r"), cats)
    path = os.path.join(cats, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["drift"] = {"reference": "reference.json", "window": 100}
    with open(path, "w") as f:
        json.dump(config, f)
    write_drift_reference({"x": CATS_X, "s": np.array(CATS_S, dtype=object)},
                          os.path.join(cats, "1", "reference.json"))
    os.chmod(os.path.join(cats, "1", "reference.json"), 0o644)
    return repo


class DriftTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(os.path.join(MODEL_DIR, "1", "reference.json")):
            raise unittest.SkipTest("run `make models` first (writes the iris drift reference)")
        cls.repo = make_repo()
        cls.d = Daemon(cls.repo, extra_args=("--model-control-mode", "explicit"))
        cls.d.wait_ready()
        cls.data = load_iris().data
        with open(os.path.join(MODEL_DIR, "1", "reference.json")) as f:
            cls.reference = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    def infer(self, rows):
        rows = np.asarray(rows, dtype=np.float64)
        return request("POST", self.d.base + "/v2/models/iris/infer", {"inputs": [
            {"name": "features", "datatype": "FP64", "shape": list(rows.shape),
             "data": rows.ravel().tolist()}]})

    def send(self, rows, per_request=30):
        for i in range(0, len(rows), per_request):  # bounded: len(rows) / per_request requests
            status, _, body = self.infer(rows[i:i + per_request])
            self.assertEqual(status, 200, body)

    def drift(self):
        """{input: (psi or None, values in the window)} from one scrape."""
        s = scrape(self.d)
        out = {}
        for name in INPUTS:
            labels = {"model": "iris", "version": "1", "input": name}
            psi = s.get(("modelgate_input_drift_psi", frozenset(labels.items())))
            out[name] = (psi, value(s, "modelgate_input_drift_window_values", **labels))
        return out, s

    def test_1_training_rows_match_the_reference_exactly(self):
        before, s = self.drift()
        for name in INPUTS:
            self.assertEqual(before[name], (None, 0), f"{name}: no PSI before any traffic")
            # The reference's shares are exported as they are in the file.
            expected = self.reference["inputs"][name]["proportions"]
            for i, p in enumerate(expected):
                got = value(s, "modelgate_input_drift_reference_ratio", model="iris", version="1",
                            input=name, bucket=f"{i:02d}")
                self.assertAlmostEqual(got, p, places=12, msg=f"{name} bucket {i}")
        # The 150 training rows: the daemon buckets them as the R helper did.
        self.send(self.data, per_request=50)
        now, s = self.drift()
        for name in INPUTS:
            psi, n = now[name]
            self.assertEqual(n, 150, name)
            self.assertIsNotNone(psi, name)
            self.assertLess(psi, 1e-9, name)

    def test_2_traffic_drawn_from_training_data_keeps_psi_low(self):
        rng = np.random.default_rng(20261201)
        self.send(self.data[rng.integers(0, len(self.data), WINDOW)])
        now, _ = self.drift()
        for name in INPUTS:
            psi, n = now[name]
            self.assertEqual(n, WINDOW, name)
            self.assertLess(psi, 0.1, name)

    def test_3_shifted_traffic_raises_psi_on_that_input_only(self):
        rng = np.random.default_rng(7)
        rows = self.data[rng.integers(0, len(self.data), WINDOW)].copy()
        shifted = INPUTS.index("sepal_width")
        rows[:, shifted] += 3 * self.data[:, shifted].std()
        self.send(rows)
        now, s = self.drift()
        for name in INPUTS:
            psi, n = now[name]
            self.assertEqual(n, WINDOW, name)
            if name == "sepal_width":
                self.assertGreater(psi, ALERT)
            else:
                self.assertLess(psi, 0.1, name)
        # The top bucket (x >= the last edge) holds most of the shifted values,
        # exactly those the daemon's rule puts there.
        edges = self.reference["inputs"]["sepal_width"]["edges"]
        share = float(np.mean(rows[:, shifted] >= edges[-1]))
        self.assertGreater(share, 0.9)
        self.assertAlmostEqual(value(s, "modelgate_input_drift_bucket_ratio", model="iris",
                                     version="1", input="sepal_width",
                                     bucket=f"{len(edges):02d}"), share)

    def test_4_rejected_requests_do_not_feed_the_window(self):
        before, _ = self.drift()
        status, _, _ = request("POST", self.d.base + "/v2/models/iris/infer", {"inputs": [
            {"name": "features", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]})
        self.assertEqual(status, 400)
        after, _ = self.drift()
        self.assertEqual(before, after)

    def test_5_a_bad_reference_fails_the_load_naming_file_and_key(self):
        bad = os.path.join(self.repo, "bad")
        shutil.copytree(os.path.join(self.repo, "iris"), bad)
        ref_path = os.path.join(bad, "1", "reference.json")
        cases = [
            ({"format": 1, "inputs": {"sepal_length": {"input": "features", "column": 9,
                                                       "edges": [1], "proportions": [0.5, 0.5]}}},
             "key 'inputs.sepal_length.column': must be below the input's width 4, got 9"),
            ({"format": 1, "inputs": {"x": {"edges": [1], "proportions": [0.5, 0.5]}}},
             "key 'inputs.x.input': the model has no input 'x' (inputs: features)"),
            ({"format": 1, "inputs": {"features": {"edges": [2, 1], "proportions": [0.2, 0.3, 0.5]}}},
             "key 'inputs.features.edges[1]': must be greater than the edge before it (2)"),
        ]
        for ref, reason in cases:
            os.chmod(ref_path, 0o644)
            with open(ref_path, "w") as f:
                json.dump(ref, f)
            status, _, body = request("POST", self.d.base + "/v2/repository/models/bad/load", b"")
            self.assertEqual(status, 400, body)
            self.assertIn(ref_path + ": " + reason, body["error"])
        # The daemon keeps serving the good model.
        status, _, _ = self.infer(self.data[:1])
        self.assertEqual(status, 200)

    def test_6_unknown_categories_of_a_bytes_input_count_as_other(self):
        def infer(x, s):
            return request("POST", self.d.base + "/v2/models/cats/infer", {"inputs": [
                {"name": "x", "datatype": "FP64", "shape": [len(x)], "data": list(x)},
                {"name": "s", "datatype": "BYTES", "shape": [len(s)], "data": list(s)}]})

        def psi(samples, name):
            return samples.get(("modelgate_input_drift_psi", frozenset(
                {"model": "cats", "version": "1", "input": name}.items())))

        status, _, body = infer(CATS_X.tolist(), CATS_S)  # the training data itself
        self.assertEqual(status, 200, body)
        s = scrape(self.d)
        self.assertLess(psi(s, "x"), 1e-9)
        self.assertLess(psi(s, "s"), 1e-9)
        self.assertAlmostEqual(value(s, "modelgate_input_drift_bucket_ratio", model="cats",
                                     version="1", input="s", bucket="b"), 0.3)
        status, _, body = infer(CATS_X.tolist(), ["a"] * 60 + ["zzz"] * 40)
        self.assertEqual(status, 200, body)
        s = scrape(self.d)
        self.assertLess(psi(s, "x"), 1e-9)
        self.assertGreater(psi(s, "s"), ALERT)
        labels = {"model": "cats", "version": "1", "input": "s"}
        self.assertAlmostEqual(value(s, "modelgate_input_drift_bucket_ratio", bucket="_other",
                                     **labels), 0.4)
        self.assertEqual(value(s, "modelgate_input_drift_reference_ratio", bucket="_other",
                               **labels), 0.0)
        self.assertAlmostEqual(value(s, "modelgate_input_drift_bucket_ratio", bucket="a",
                                     **labels), 0.6)

    def test_7_python_and_r_helpers_write_the_same_reference(self):
        out = os.path.join(self.repo, "py_reference.json")
        write_drift_reference({n: self.data[:, j] for j, n in enumerate(INPUTS)}, out,
                              input="features")
        with open(out) as f:
            py = json.load(f)
        self.assertEqual(py["rows"], self.reference["rows"])
        self.assertEqual(set(py["inputs"]), set(self.reference["inputs"]))
        for name, r_entry in self.reference["inputs"].items():
            p_entry = py["inputs"][name]
            self.assertEqual((p_entry["input"], p_entry["column"]), (r_entry["input"], r_entry["column"]))
            self.assertEqual(p_entry["edges"], r_entry["edges"], name)
            for a, b in zip(p_entry["proportions"], r_entry["proportions"], strict=True):
                self.assertAlmostEqual(a, b, places=12, msg=name)

    def test_8_grpc_requests_feed_the_window_too(self):
        import grpc
        import grpc_predict_v2_pb2 as pb
        import grpc_predict_v2_pb2_grpc as pb_grpc

        stub = pb_grpc.GRPCInferenceServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{self.d.grpc_port}"))
        r = pb.ModelInferRequest(model_name="cats")
        r.inputs.add(name="x", datatype="FP64", shape=[100])
        r.raw_input_contents.append(np.full(100, 1e6).tobytes())  # far above the training data
        stub.ModelInfer(r, timeout=60)
        s = scrape(self.d)
        labels = {"model": "cats", "version": "1", "input": "x"}
        top = len(self.reference_of("cats")["inputs"]["x"]["edges"])
        self.assertEqual(value(s, "modelgate_input_drift_bucket_ratio", bucket=f"{top:02d}",
                               **labels), 1.0)
        self.assertGreater(s[("modelgate_input_drift_psi", frozenset(labels.items()))], ALERT)

    def reference_of(self, model):
        with open(os.path.join(self.repo, model, "1", "reference.json")) as f:
            return json.load(f)


if __name__ == "__main__":
    unittest.main()
