"""What reaches the model, against the real daemon with real R and Python
workers in tensor and data-frame mode: request parameters over REST and gRPC
(the daemon's own keys stripped), optional inputs omitted and present, and
BYTES that are not UTF-8 or hold NUL, byte-exact over gRPC (typed and raw
contents) and binary REST. Models: tests/models/inputs_*."""

import http.client
import json
import struct
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, request

D = None
STUB = None
MODELS = ("inputs_py", "inputs_r", "inputs_df_py", "inputs_df_r")
LEGACY = ("legacy_args_r", "legacy_args_py")
# Elements that are UTF-8, not UTF-8, and hold NUL (an R string cannot).
BYTES = [b"text", b"\xff\xfe", b"a\x00b", "Zürich".encode()]


def kinds(model):
    """How each BYTES element reaches the model: R takes NUL as raw bytes."""
    return ["text", "bytes", "bytes" if model.endswith("_r") else "text", "text"]


def setUpModule():
    global D, STUB
    D = Daemon(make_repository(examples=(), test_models=MODELS + LEGACY))
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()


def infer(model, inputs, parameters=None):
    body = {"inputs": inputs}
    if parameters is not None:
        body["parameters"] = parameters
    return request("POST", f"{D.base}/v2/models/{model}/infer", body)


def outputs(body):
    return {o["name"]: o["data"] for o in body["outputs"]}


def x_input(values):
    return {"name": "x", "datatype": "FP64", "shape": [len(values)], "data": values}


def serialize_bytes(values):
    return b"".join(struct.pack("<I", len(v)) + v for v in values)


def deserialize_bytes(data):
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from("<I", data, at)
        out.append(bytes(data[at + 4:at + 4 + n]))
        at += 4 + n
    return out


def grpc_outputs(resp):
    """name -> list of values (bytes for BYTES, floats for FP64, bools)."""
    got = {}
    for i, o in enumerate(resp.outputs):
        if resp.raw_output_contents:
            raw = resp.raw_output_contents[i]
            if o.datatype == "BYTES":
                got[o.name] = deserialize_bytes(raw)
            elif o.datatype == "BOOL":
                got[o.name] = [bool(b) for b in raw]
            else:
                got[o.name] = np.frombuffer(raw, dtype="<f8").tolist()
        elif o.datatype == "BYTES":
            got[o.name] = list(o.contents.bytes_contents)
        elif o.datatype == "BOOL":
            got[o.name] = list(o.contents.bool_contents)
        else:
            got[o.name] = list(o.contents.fp64_contents)
    return got


class ParametersTest(unittest.TestCase):
    def test_rest_parameters_reach_the_model_without_the_daemons_keys(self):
        for model in MODELS:
            with self.subTest(model=model):
                status, _, body = infer(model, [x_input([1.0, 2.5])], {
                    "scale": 3, "alternative": "less", "prob": True, "ratio": 0.25,
                    "timeout": 60000000, "binary_data_output": False, "priority": 1})
                self.assertEqual(status, 200, body)
                out = outputs(body)
                self.assertEqual(out["params"], ["alternative=less:string", "prob=true:bool",
                                                 "ratio=0.25:number", "scale=3:number"])
                self.assertEqual(out["y"], [6.0, 15.0])

    def test_no_parameters_reach_the_model_as_an_empty_collection(self):
        for model in MODELS:
            with self.subTest(model=model):
                status, _, body = infer(model, [x_input([1.0])])
                self.assertEqual(status, 200, body)
                self.assertEqual(outputs(body)["params"], [])
                self.assertEqual(outputs(body)["y"], [2.0])

    def test_grpc_parameters_reach_the_model_without_the_daemons_keys(self):
        for model in MODELS:
            with self.subTest(model=model):
                req = pb.ModelInferRequest(model_name=model)
                req.inputs.add(name="x", datatype="FP64", shape=[1]).contents.fp64_contents.append(4)
                req.parameters["type"].string_param = "prob"
                req.parameters["scale"].int64_param = -2
                req.parameters["exact"].bool_param = False
                req.parameters["count"].uint64_param = 7
                req.parameters["timeout"].int64_param = 60000000
                req.parameters["sequence_id"].uint64_param = 9
                got = grpc_outputs(STUB.ModelInfer(req, timeout=60))
                self.assertEqual(got["params"], [b"count=7:number", b"exact=false:bool",
                                                 b"scale=-2:number", b"type=prob:string"])
                self.assertEqual(got["y"], [-16.0])

    def test_bad_parameters_are_refused_naming_the_key(self):
        status, _, body = infer("inputs_py", [x_input([1.0])], {"window": [1, 2]})
        self.assertEqual(status, 400)
        self.assertIn("request parameter 'window' must be a boolean, a number or a string",
                      body["error"])
        req = pb.ModelInferRequest(model_name="inputs_r")
        req.inputs.add(name="x", datatype="FP64", shape=[1]).contents.fp64_contents.append(4)
        req.parameters["n"].uint64_param = 2 ** 64 - 1
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelInfer(req, timeout=60)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("request parameter 'n'", e.exception.details())
        # The daemon keeps serving.
        self.assertEqual(infer("inputs_py", [x_input([1.0])])[0], 200)


class OptionalInputsTest(unittest.TestCase):
    def test_an_omitted_optional_input_is_absent_and_a_given_one_is_used(self):
        for model in MODELS:
            with self.subTest(model=model):
                status, _, body = infer(model, [x_input([1.0, 3.0])])
                self.assertEqual(status, 200, body)
                self.assertEqual(outputs(body)["has_w"], [False])
                self.assertEqual(outputs(body)["y"], [2.0, 6.0])
                self.assertNotIn("s_echo", outputs(body))
                w = {"name": "w", "datatype": "FP64", "shape": [2], "data": [10, 0.5]}
                status, _, body = infer(model, [x_input([1.0, 3.0]), w])
                self.assertEqual(status, 200, body)
                self.assertEqual(outputs(body)["has_w"], [True])
                self.assertEqual(outputs(body)["y"], [10.0, 1.5])

    def test_a_required_input_is_still_required(self):
        w = {"name": "w", "datatype": "FP64", "shape": [1], "data": [1]}
        status, _, body = infer("inputs_r", [w])
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "missing input 'x': model 'inputs_r' takes x, w, s")


class BytesTest(unittest.TestCase):
    def grpc_request(self, model, raw):
        req = pb.ModelInferRequest(model_name=model)
        x = req.inputs.add(name="x", datatype="FP64", shape=[len(BYTES)])
        s = req.inputs.add(name="s", datatype="BYTES", shape=[len(BYTES)])
        if raw:
            req.raw_input_contents.append(np.arange(len(BYTES), dtype="<f8").tobytes())
            req.raw_input_contents.append(serialize_bytes(BYTES))
        else:
            x.contents.fp64_contents.extend(range(len(BYTES)))
            s.contents.bytes_contents.extend(BYTES)
        return req

    def test_bytes_round_trip_exactly_over_grpc(self):
        for model in MODELS:
            for raw in (False, True):
                with self.subTest(model=model, raw=raw):
                    got = grpc_outputs(STUB.ModelInfer(self.grpc_request(model, raw), timeout=60))
                    self.assertEqual(got["s_echo"], BYTES)
                    self.assertEqual([k.decode() for k in got["s_kinds"]], kinds(model))

    def test_bytes_round_trip_exactly_over_binary_rest(self):
        for model in MODELS:
            with self.subTest(model=model):
                x = np.arange(len(BYTES), dtype="<f8").tobytes()
                s = serialize_bytes(BYTES)
                header = json.dumps({
                    "inputs": [
                        {"name": "x", "datatype": "FP64", "shape": [len(BYTES)],
                         "parameters": {"binary_data_size": len(x)}},
                        {"name": "s", "datatype": "BYTES", "shape": [len(BYTES)],
                         "parameters": {"binary_data_size": len(s)}}],
                    "outputs": [{"name": "s_echo", "parameters": {"binary_data": True}},
                                {"name": "s_kinds"}]}).encode()
                conn = http.client.HTTPConnection("127.0.0.1", D.http_port, timeout=60)
                try:
                    conn.request("POST", f"/v2/models/{model}/infer", body=header + x + s,
                                 headers={"Content-Type": "application/octet-stream",
                                          "Inference-Header-Content-Length": str(len(header))})
                    r = conn.getresponse()
                    data = r.read()
                    self.assertEqual(r.status, 200, data[:500])
                    json_size = int(r.getheader("Inference-Header-Content-Length"))
                finally:
                    conn.close()
                body = json.loads(data[:json_size])
                by_name = {o["name"]: o for o in body["outputs"]}
                self.assertEqual(by_name["s_kinds"]["data"], kinds(model))
                self.assertEqual(by_name["s_echo"]["parameters"]["binary_data_size"],
                                 len(data) - json_size)
                self.assertEqual(deserialize_bytes(data[json_size:]), BYTES)

    def test_a_json_response_refuses_bytes_that_are_not_utf8_naming_the_output(self):
        s = serialize_bytes([b"\xff"])
        header = json.dumps({"inputs": [
            {"name": "x", "datatype": "FP64", "shape": [1], "data": [1]},
            {"name": "s", "datatype": "BYTES", "shape": [1],
             "parameters": {"binary_data_size": len(s)}}]}).encode()
        status, _, body = request("POST", f"{D.base}/v2/models/inputs_py/infer", header + s,
                                  {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual(status, 500)
        self.assertIn("output 's_echo' element 0 is not valid UTF-8", body["error"])


class LegacySignatureTest(unittest.TestCase):
    """Models whose second argument is R's `...` or has a default predate
    parameters: they answer as before and never receive them."""

    def test_r_dots_never_receive_parameters(self):
        status, _, body = infer("legacy_args_r", [x_input([1.0, 2.0])], {"se.fit": True, "k": 1})
        self.assertEqual(status, 200, body)
        out = outputs(body)
        self.assertEqual(out["y"], [2.0, 4.0])
        self.assertEqual(out["extra_args"], [0])

    def test_python_default_is_kept(self):
        status, _, body = infer("legacy_args_py", [x_input([1.0])], {"threshold": 0.9})
        self.assertEqual(status, 200, body)
        out = outputs(body)
        self.assertEqual(out["y"], [2.0])
        self.assertEqual(out["threshold"], [0.5])


if __name__ == "__main__":
    unittest.main()
