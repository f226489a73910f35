"""REST (KServe V2 and V1) against the real daemon with real R and Python workers."""

import json
import subprocess
import unittest

from daemon import (BINARY, Daemon, make_repository, reference_r_predictions, reference_sklearn,
                    request, wait_for)

D = None


def setUpModule():
    global D
    D = Daemon(make_repository(test_models=("load_fail_py",)),
               extra_args=("--max-request-bytes", "1048576",
                           "--model-control-mode", "explicit"))
    D.wait_ready()


def tearDownModule():
    D.cleanup()


def infer(model, inputs, version=None, **extra):
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    return request("POST", D.base + path, {"inputs": inputs, **extra})


MTCARS_ROWS = [(2.62, 110.0), (3.215, 110.0), (1.835, 65.0), (5.345, 230.0), (3.19, 62.0)]
IRIS_ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]


class HealthAndMetadataTest(unittest.TestCase):
    def test_live_and_ready(self):
        self.assertEqual(request("GET", D.base + "/v2/health/live")[:3:2], (200, {"live": True}))
        # load_fail_py is not required, so the server is ready without it.
        self.assertEqual(request("GET", D.base + "/v2/health/ready")[:3:2], (200, {"ready": True}))

    def test_server_metadata(self):
        status, _, body = request("GET", D.base + "/v2")
        self.assertEqual(status, 200)
        self.assertEqual(body["name"], "modelgate")
        self.assertIn("model_repository", body["extensions"])
        # One version, from CMake: the same in metadata and in --version.
        out = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual((out.returncode, out.stdout), (0, f"modelgate {body['version']}\n"))

    def test_model_metadata_plain_and_versioned(self):
        for path in ("/v2/models/iris_species", "/v2/models/iris_species/versions/1"):
            status, _, body = request("GET", D.base + path)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["name"], "iris_species")
            self.assertEqual(body["versions"], ["1"])
            self.assertEqual(body["platform"], "modelgate_python")
            self.assertEqual(body["inputs"], [{"name": "features", "datatype": "FP64", "shape": [-1, 4]}])
            self.assertEqual([o["name"] for o in body["outputs"]], ["label", "probabilities"])

    def test_model_ready_routes(self):
        for path in ("/v2/models/mtcars_am/ready", "/v2/models/mtcars_am/versions/1/ready"):
            status, _, body = request("GET", D.base + path)
            self.assertEqual((status, body["ready"]), (200, True))
        status, _, body = request("GET", D.base + "/v1/models/mtcars_am")
        self.assertEqual((status, body), (200, {"name": "mtcars_am", "ready": True}))

    def test_unknown_routes_and_methods(self):
        self.assertEqual(request("GET", D.base + "/v3/nothing")[0], 404)
        status, hdrs, body = request("GET", D.base + "/v2/models/mtcars_am/infer")
        self.assertEqual(status, 405)
        self.assertIn("GET", body["error"])
        self.assertEqual(request("GET", D.base + "/v2/models/nope")[0], 404)


class InferTest(unittest.TestCase):
    def test_r_glm_matches_r(self):
        expected = reference_r_predictions(MTCARS_ROWS)
        status, _, body = infer("mtcars_am", [
            {"name": "wt", "datatype": "FP64", "shape": [5], "data": [r[0] for r in MTCARS_ROWS]},
            {"name": "hp", "datatype": "FP64", "shape": [5], "data": [r[1] for r in MTCARS_ROWS]}])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["model_name"], "mtcars_am")
        self.assertEqual(body["model_version"], "1")
        out = body["outputs"][0]
        self.assertEqual((out["name"], out["datatype"], out["shape"]), ("prob", "FP64", [5]))
        for got, want in zip(out["data"], expected):
            self.assertAlmostEqual(got, want, places=12)

    def test_python_sklearn_matches_sklearn_with_nested_data(self):
        labels, probs = reference_sklearn(IRIS_ROWS)
        status, _, body = infer("iris_species", [
            {"name": "features", "datatype": "FP64", "shape": [3, 4], "data": IRIS_ROWS}])
        self.assertEqual(status, 200, body)
        outs = {o["name"]: o for o in body["outputs"]}
        self.assertEqual(outs["label"]["datatype"], "INT64")
        self.assertEqual(outs["label"]["data"], labels)
        self.assertEqual(outs["probabilities"]["shape"], [3, 3])
        flat = [p for row in probs for p in row]
        for got, want in zip(outs["probabilities"]["data"], flat):
            self.assertAlmostEqual(got, want, places=12)

    def test_versioned_route_and_unknown_version(self):
        inputs = [{"name": "x", "datatype": "FP64", "shape": [3], "data": [1, 2, 6]}]
        status, _, body = infer("describe", inputs, version="1")
        self.assertEqual(status, 200, body)
        stats = {o["name"]: o["data"][0] for o in body["outputs"]}
        self.assertEqual(stats["mean"], 3.0)
        self.assertEqual(stats["n"], 3)
        status, _, body = infer("describe", inputs, version="2")
        self.assertEqual(status, 404)
        self.assertIn("no version 2", body["error"])
        status, _, body = infer("describe", inputs, version="abc")
        self.assertEqual(status, 400)

    def test_requested_outputs_and_id_echo(self):
        status, hdrs, body = infer("iris_species", [
            {"name": "features", "datatype": "FP64", "shape": [1, 4], "data": IRIS_ROWS[0]}],
            id="my-request-7", outputs=[{"name": "label"}])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["id"], "my-request-7")
        self.assertEqual([o["name"] for o in body["outputs"]], ["label"])
        status, _, body = infer("iris_species", [
            {"name": "features", "datatype": "FP64", "shape": [1, 4], "data": IRIS_ROWS[0]}],
            outputs=[{"name": "nope"}])
        self.assertEqual(status, 400)
        self.assertIn("unknown output 'nope'", body["error"])

    def test_request_id_header_is_echoed(self):
        status, hdrs, _ = request("GET", D.base + "/v2/health/live", headers={"x-request-id": "trace-42"})
        self.assertEqual(hdrs.get("x-request-id"), "trace-42")
        status, hdrs, _ = request("GET", D.base + "/v2/health/live")
        self.assertTrue(hdrs.get("x-request-id", "").startswith("mg-"))


class V1PredictTest(unittest.TestCase):
    def test_object_rows_for_r_model(self):
        expected = reference_r_predictions(MTCARS_ROWS[:2])
        status, _, body = request("POST", D.base + "/v1/models/mtcars_am:predict", {
            "instances": [{"wt": r[0], "hp": r[1]} for r in MTCARS_ROWS[:2]]})
        self.assertEqual(status, 200, body)
        for got, want in zip(body["predictions"], expected):
            self.assertAlmostEqual(got, want, places=12)

    def test_array_rows_for_multi_input_model(self):
        expected = reference_r_predictions(MTCARS_ROWS[:3])
        status, _, body = request("POST", D.base + "/v1/models/mtcars_am/versions/1:predict", {
            "instances": [list(r) for r in MTCARS_ROWS[:3]]})
        self.assertEqual(status, 200, body)
        for got, want in zip(body["predictions"], expected):
            self.assertAlmostEqual(got, want, places=12)

    def test_rows_for_single_input_model(self):
        labels, probs = reference_sklearn(IRIS_ROWS)
        status, _, body = request("POST", D.base + "/v1/models/iris_species:predict",
                                  {"instances": IRIS_ROWS})
        self.assertEqual(status, 200, body)
        self.assertEqual([p["label"] for p in body["predictions"]], labels)
        for p, want in zip(body["predictions"], probs):
            for a, b in zip(p["probabilities"], want):
                self.assertAlmostEqual(a, b, places=12)

    def test_bad_rows(self):
        status, _, body = request("POST", D.base + "/v1/models/mtcars_am:predict",
                                  {"instances": [{"wt": 2.0}]})
        self.assertEqual(status, 400)
        self.assertIn("missing input 'hp'", body["error"])
        status, _, body = request("POST", D.base + "/v1/models/mtcars_am:predict", {"rows": []})
        self.assertEqual(status, 400)
        self.assertIn("instances", body["error"])


class BadInputTest(unittest.TestCase):
    """Each bad request gets a 4xx naming what was wrong; the daemon keeps serving."""

    GOOD = [{"name": "features", "datatype": "FP64", "shape": [1, 4], "data": IRIS_ROWS[0]}]

    def assert_error(self, status_body, status, *fragments):
        got_status, _, body = status_body
        self.assertEqual(got_status, status, body)
        self.assertIsInstance(body, dict, body)
        for f in fragments:
            self.assertIn(f, body["error"])

    def tearDown(self):
        status, _, body = infer("iris_species", self.GOOD)
        self.assertEqual(status, 200, body)  # still serving

    def test_unknown_model(self):
        self.assert_error(infer("no_such_model", self.GOOD), 404, "unknown model 'no_such_model'")

    def test_wrong_shape(self):
        self.assert_error(infer("iris_species", [
            {"name": "features", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]),
            400, "input 'features'", "[1,3]", "[-1,4]")

    def test_shape_data_length_mismatch(self):
        self.assert_error(infer("iris_species", [
            {"name": "features", "datatype": "FP64", "shape": [2, 4], "data": [1, 2, 3, 4]}]),
            400, "input 'features'", "needs 8 elements", "has 4")

    def test_wrong_datatype(self):
        self.assert_error(infer("mtcars_am", [
            {"name": "wt", "datatype": "FP32", "shape": [1], "data": [2.5]},
            {"name": "hp", "datatype": "FP64", "shape": [1], "data": [100]}]),
            400, "input 'wt'", "FP32", "FP64")

    def test_missing_input(self):
        self.assert_error(infer("mtcars_am", [
            {"name": "wt", "datatype": "FP64", "shape": [1], "data": [2.5]}]),
            400, "missing input 'hp'")

    def test_unknown_input(self):
        self.assert_error(infer("iris_species", self.GOOD + [
            {"name": "extra", "datatype": "FP64", "shape": [1], "data": [1]}]),
            400, "unknown input 'extra'")

    def test_malformed_json(self):
        self.assert_error(request("POST", D.base + "/v2/models/iris_species/infer",
                                  b'{"inputs": [ {"name": '), 400, "malformed JSON")

    def test_non_numeric_data(self):
        self.assert_error(infer("iris_species", [
            {"name": "features", "datatype": "FP64", "shape": [1, 4], "data": [1, "two", 3, 4]}]),
            400, "input 'features'", "\"two\"")

    def test_model_flags_invalid_input(self):
        self.assert_error(infer("describe", [
            {"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}]),
            400, "x needs at least 2 values")

    def test_body_over_limit_is_413(self):
        big = b'{"inputs": [' + b" " * (2 * 1024 * 1024) + b"]}"
        for _ in range(5):  # the answer must survive the client still sending
            self.assert_error(request("POST", D.base + "/v2/models/iris_species/infer", big), 413,
                              "exceeds the limit")


class LoadFailureTest(unittest.TestCase):
    def test_failed_model_is_not_ready_and_answers_503_with_the_reason(self):
        status, _, body = request("GET", D.base + "/v2/models/load_fail_py/ready")
        self.assertEqual(status, 503)
        self.assertFalse(body["ready"])
        self.assertIn("artifact missing", body["reason"])
        status, hdrs, body = infer("load_fail_py", [
            {"name": "x", "datatype": "FP64", "shape": [1], "data": [1]}])
        self.assertEqual(status, 503)
        self.assertIn("artifact missing", body["error"])
        self.assertIn("Retry-After", hdrs)
        status, _, index = request("POST", D.base + "/v2/repository/index")
        entry = [e for e in index if e["name"] == "load_fail_py"][0]
        self.assertEqual(entry["state"], "UNAVAILABLE")
        self.assertIn("artifact missing", entry["reason"])


class RepositoryTest(unittest.TestCase):
    def test_unload_then_load(self):
        x = [{"name": "x", "datatype": "FP64", "shape": [2], "data": [1, 2]}]
        self.assertEqual(request("POST", D.base + "/v2/repository/models/describe/unload")[0], 200)
        self.assertEqual(request("GET", D.base + "/v2/models/describe/ready")[0], 503)
        status, _, body = infer("describe", x)
        self.assertEqual(status, 503)
        self.assertIn("unloaded", body["error"])
        self.assertEqual(request("POST", D.base + "/v2/repository/models/describe/load")[0], 200)
        self.assertTrue(wait_for(lambda: request("GET", D.base + "/v2/models/describe/ready")[0] == 200,
                                 timeout=60))
        status, _, body = infer("describe", x)
        self.assertEqual(status, 200, body)
        self.assertEqual(request("POST", D.base + "/v2/repository/models/nope/load")[0], 404)


if __name__ == "__main__":
    unittest.main()
