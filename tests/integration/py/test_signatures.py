"""Signatures declared in code (issue 15), against the real daemon with real R
and Python workers: an R zero-row data.frame `prototype` and a Python
`signature` dict with no "inputs" in config.json, a pandas `prototype` that
agrees with config.json; V2 metadata over REST and gRPC equals the code's
declaration; an unknown factor / category level is a 400 (gRPC
INVALID_ARGUMENT) naming input, value and levels, and never reaches a worker;
a config/code mismatch, and a model declaring inputs nowhere, fail their
load through the repository API with the reason. Models: tests/models/sig_*."""

import json
import os
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import SOURCE_DIR, Daemon, make_repository, request, wait_for

D = None
STUB = None
MODELS = ("sig_df_r", "sig_py", "sig_df_py")
SPECIES = ["setosa", "versicolor", "virginica"]

# What each model's code declares (name, datatype, shape, levels).
DECLARED = {
    "sig_df_r": {
        "inputs": [("x", "FP64", [-1], None), ("n", "INT32", [-1], None),
                   ("flag", "BOOL", [-1], None), ("label", "BYTES", [-1], None),
                   ("species", "BYTES", [-1], SPECIES)],
        "outputs": [],
    },
    "sig_py": {
        "inputs": [("x", "FP32", [-1, 2], None), ("unit", "BYTES", [1], ["cm", "inch"])],
        "outputs": [("y", "FP64", [-1], None)],
    },
    "sig_df_py": {
        "inputs": [("x", "FP64", [-1], None), ("k", "INT64", [-1], None),
                   ("color", "BYTES", [-1], ["red", "green", "blue"])],
        "outputs": [],
    },
}


def setUpModule():
    global D, STUB
    D = Daemon(make_repository(examples=(), test_models=MODELS),
               extra_args=("--model-control-mode", "explicit"))
    D.wait_ready()
    # Not required models: the server is ready before their workers are.
    for model in MODELS:
        ready = wait_for(lambda: request("GET", f"{D.base}/v2/models/{model}/ready")[0] == 200,
                         timeout=120, step=0.2)
        assert ready, f"{model} not ready:\n{D.log()[-4000:]}"
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()


def infer(model, inputs):
    return request("POST", f"{D.base}/v2/models/{model}/infer", {"inputs": inputs})


def outputs(body):
    return {o["name"]: o for o in body["outputs"]}


def r_inputs(species, n=None):
    rows = len(species)
    return [
        {"name": "x", "datatype": "FP64", "shape": [rows], "data": [1.5] * rows},
        {"name": "n", "datatype": "INT32", "shape": [rows], "data": [n or 1] * rows},
        {"name": "flag", "datatype": "BOOL", "shape": [rows], "data": [True] * rows},
        {"name": "label", "datatype": "BYTES", "shape": [rows], "data": ["a"] * rows},
        {"name": "species", "datatype": "BYTES", "shape": [rows], "data": species},
    ]


def bytes_tensor(name, values):
    t = pb.ModelInferRequest.InferInputTensor(name=name, datatype="BYTES", shape=[len(values)])
    t.contents.bytes_contents.extend(v.encode() for v in values)
    return t


class MetadataTest(unittest.TestCase):
    def test_rest_metadata_equals_the_code_declaration(self):
        for model, declared in DECLARED.items():
            with self.subTest(model=model):
                status, _, body = request("GET", f"{D.base}/v2/models/{model}")
                self.assertEqual(status, 200, body)
                for kind in ("inputs", "outputs"):
                    got = [(t["name"], t["datatype"], t["shape"],
                            json.loads(t["parameters"]["levels"]) if "parameters" in t else None)
                           for t in body[kind]]
                    self.assertEqual(got, [tuple(e) for e in declared[kind]], body)

    def test_grpc_metadata_equals_the_code_declaration(self):
        for model, declared in DECLARED.items():
            with self.subTest(model=model):
                m = STUB.ModelMetadata(pb.ModelMetadataRequest(name=model), timeout=10)
                for kind in ("inputs", "outputs"):
                    got = [(t.name, t.datatype, list(t.shape)) for t in getattr(m, kind)]
                    self.assertEqual(got, [tuple(e[:3]) for e in declared[kind]])


class InferTest(unittest.TestCase):
    def test_r_prototype_factor_reaches_the_model_as_a_factor_with_its_levels(self):
        status, _, body = infer("sig_df_r", r_inputs(["virginica", "setosa"], n=4))
        self.assertEqual(status, 200, body)
        out = outputs(body)
        self.assertEqual(out["y"]["data"], [3.0, 3.0])
        self.assertEqual(out["n_plus"]["datatype"], "INT32")
        self.assertEqual(out["n_plus"]["data"], [5, 5])
        self.assertEqual(out["flag_not"]["data"], [False, False])
        self.assertEqual(out["label_upper"]["data"], ["A", "A"])
        self.assertEqual(out["species_code"]["data"], [3, 1])
        self.assertEqual(out["species_class"]["data"], ["factor"])
        self.assertEqual(out["species_levels"]["data"], SPECIES)
        self.assertEqual(out["is_df"]["data"], [True])

    def test_python_signature_outputs_are_converted_to_the_declared_datatype(self):
        status, _, body = infer("sig_py", [
            {"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [1, 2, 3, 4]},
            {"name": "unit", "datatype": "BYTES", "shape": [1], "data": ["inch"]}])
        self.assertEqual(status, 200, body)
        y = outputs(body)["y"]
        self.assertEqual(y["datatype"], "FP64")
        np.testing.assert_allclose(y["data"], [3 * 2.54, 7 * 2.54], rtol=1e-6)

    def test_pandas_prototype_category_keeps_its_categories(self):
        status, _, body = infer("sig_df_py", [
            {"name": "x", "datatype": "FP64", "shape": [3], "data": [1, 2, 3]},
            {"name": "k", "datatype": "INT64", "shape": [3], "data": [2, 2, 2]},
            {"name": "color", "datatype": "BYTES", "shape": [3], "data": ["blue", "red", "blue"]}])
        self.assertEqual(status, 200, body)
        out = outputs(body)
        self.assertEqual(out["y"]["data"], [2.0, 4.0, 6.0])
        self.assertEqual(out["color_code"]["data"], [2, 0, 2])
        self.assertEqual(out["color_dtype"]["data"], ["category"])

    def test_a_declared_datatype_is_enforced(self):
        inputs = r_inputs(["setosa"])
        inputs[1] = {"name": "n", "datatype": "FP64", "shape": [1], "data": [1.0]}
        status, _, body = infer("sig_df_r", inputs)
        self.assertEqual(status, 400, body)
        self.assertIn("input 'n': datatype FP64 does not match the INT32", body["error"])


class LevelsTest(unittest.TestCase):
    def computed(self, model):
        """Requests the model's workers ran."""
        return D.metric("modelgate_compute_duration_seconds_count", model=model, version="1")

    def test_unknown_r_factor_level_is_400_naming_input_value_and_levels(self):
        self.assertEqual(infer("sig_df_r", r_inputs(["setosa"]))[0], 200)
        before = self.computed("sig_df_r")
        self.assertGreater(before, 0)
        status, _, body = infer("sig_df_r", r_inputs(["setosa", "virginca"]))
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"], "input 'species': value 'virginca' is not one of its "
                                        "levels: setosa, versicolor, virginica")
        self.assertEqual(self.computed("sig_df_r"), before)  # never reached a worker

    def test_unknown_python_levels_are_400_over_rest_and_invalid_argument_over_grpc(self):
        status, _, body = infer("sig_py", [
            {"name": "x", "datatype": "FP32", "shape": [1, 2], "data": [1, 2]},
            {"name": "unit", "datatype": "BYTES", "shape": [1], "data": ["furlong"]}])
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"],
                         "input 'unit': value 'furlong' is not one of its levels: cm, inch")
        req = pb.ModelInferRequest(model_name="sig_df_py")
        x = req.inputs.add(name="x", datatype="FP64", shape=[1])
        x.contents.fp64_contents.append(1.0)
        k = req.inputs.add(name="k", datatype="INT64", shape=[1])
        k.contents.int64_contents.append(1)
        req.inputs.append(bytes_tensor("color", ["p" * 500]))
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelInfer(req, timeout=30)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        detail = e.exception.details()
        self.assertIn("input 'color': value '" + "p" * 64 + "\u2026'", detail)
        self.assertIn("levels: red, green, blue", detail)
        self.assertLess(len(detail), 300)


class LoadTest(unittest.TestCase):
    """Models added to the repository after start, loaded through the API."""

    def load(self, model):
        link = os.path.join(D.repo, model)
        if not os.path.lexists(link):
            os.symlink(os.path.join(SOURCE_DIR, "tests", "models", model), link)
        return request("POST", f"{D.base}/v2/repository/models/{model}/load", b"", timeout=120)

    def test_config_and_r_prototype_disagreeing_fail_the_load_naming_both(self):
        status, _, body = self.load("sig_mismatch_r")
        self.assertNotEqual(status, 200, body)
        self.assertIn("input 'x': ", body["error"])
        self.assertIn("config.json declares FP32 [-1] but the prototype data.frame in model.R "
                      "declares FP64 [-1]", body["error"])
        status, _, _ = request("GET", f"{D.base}/v2/models/sig_mismatch_r")
        self.assertEqual(status, 404)

    def test_input_missing_from_python_signature_fails_the_load_naming_it(self):
        status, _, body = self.load("sig_mismatch_py")
        self.assertNotEqual(status, 200, body)
        self.assertIn("input 'extra' is declared in ", body["error"])
        self.assertIn("but not in Model.signature in model.py, which declares x", body["error"])

    def test_a_model_declaring_inputs_nowhere_fails_naming_both_files(self):
        status, _, body = self.load("sig_none_py")
        self.assertNotEqual(status, 200, body)
        self.assertIn("config.json declares no \"inputs\" and model.py declares no signature",
                      body["error"])

    def test_a_signature_the_daemon_cannot_trust_fails_the_load_naming_the_entry(self):
        status, _, body = self.load("sig_bad_py")
        self.assertNotEqual(status, 200, body)
        self.assertIn("the worker's Hello declares an invalid signature: input 0 'x' has "
                      "datatype 'FLOAT64', not a V2 datatype", body["error"])

    def test_the_daemon_keeps_serving_after_failed_loads(self):
        self.load("sig_none_py")
        status, _, body = infer("sig_df_r", r_inputs(["setosa"]))
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
