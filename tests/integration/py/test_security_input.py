"""Issue 10, the input/output validation boundary, end to end: hostile
requests and malformed worker results against the real daemon, real Python
workers and real HTTP/gRPC clients. Each case crashed the daemon, wrapped,
answered wrongly or opened the breaker before; now each gets a clear error
naming what was wrong, and the daemon keeps serving everyone else.
"""

import json
import socket
import time
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, request

D = None
STUB = None
MAX_ERROR_BYTES = 1024  # kMaxErrorMessageBytes
IRIS_ROW = [5.1, 3.5, 1.4, 0.2]
INT64_MAX = 2 ** 63 - 1


def setUpModule():
    global D, STUB
    D = Daemon(make_repository(examples=("iris_species",), test_models=("malformed_py", "half_r")))
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()


def iris_v2(shape, data, **extra):
    body = {"inputs": [{"name": "features", "datatype": "FP64", "shape": shape, "data": data}]}
    body.update(extra)
    return request("POST", D.base + "/v2/models/iris_species/infer", body)


def raw_post(path, body, headers=None):
    """POST raw bytes; (status, headers, body bytes)."""
    with socket.create_connection(("127.0.0.1", D.http_port), timeout=30) as s:
        head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
                f"Content-Length: {len(body)}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = dict(l.split(": ", 1) for l in lines[1:] if ": " in l)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in hdrs.items()}, payload


def malformed(mode, v1=False):
    if v1:
        return request("POST", D.base + "/v1/models/malformed_py:predict", {"instances": [mode, 1]})
    return request("POST", D.base + "/v2/models/malformed_py/infer",
                   {"inputs": [{"name": "x", "datatype": "FP64", "shape": [2], "data": [mode, 1]}]})


def iris_grpc(shape, raw=None, request_id="", metadata=None, timeout=30):
    r = pb.ModelInferRequest(model_name="iris_species", id=request_id)
    r.inputs.add(name="features", datatype="FP64", shape=shape)
    r.raw_input_contents.append(raw if raw is not None else np.array(IRIS_ROW).tobytes())
    return STUB.ModelInfer.with_call(r, metadata=metadata, timeout=timeout)


class RequestParsingTest(unittest.TestCase):
    def assert_alive(self):
        self.assertEqual(request("GET", D.base + "/v2/health/live")[0], 200)
        self.assertEqual(iris_v2([1, 4], IRIS_ROW)[0], 200)

    def test_deep_nesting_is_400_not_a_crash(self):
        deep = "[" * 100000 + "1" + "]" * 100000
        bodies = {
            "/v2/models/iris_species/infer": '{"inputs": [{"name": "features", "datatype": "FP64", '
                                             '"shape": [1, 4], "data": %s}]}' % deep,
            "/v2/models/iris_species/infer#shape": '{"inputs": [{"name": "features", "datatype": '
                                                   '"FP64", "shape": %s, "data": [1]}]}' % deep,
            "/v1/models/iris_species:predict": '{"instances": %s}' % deep,
        }
        for path, body in bodies.items():
            status, _, payload = raw_post(path.split("#")[0], body.encode())
            self.assertEqual(status, 400, path)
            self.assertIn("nested deeper than 64 levels", json.loads(payload)["error"])
        self.assert_alive()

    def test_trailing_bytes_after_the_document_are_400(self):
        valid = json.dumps({"inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 4],
                                        "data": IRIS_ROW}]}).encode()
        self.assertEqual(raw_post("/v2/models/iris_species/infer", valid + b" \n")[0], 200)
        for tail in (b"\x00garbage", b"garbage", b"{}"):
            status, _, payload = raw_post("/v2/models/iris_species/infer", valid + tail)
            self.assertEqual(status, 400, tail)
            self.assertIn("malformed JSON", json.loads(payload)["error"])

    def test_client_shape_mistakes_are_400_and_never_open_the_breaker(self):
        bad = [
            lambda: iris_v2([2 ** 62, 4], []),
            lambda: iris_v2([0, 4], []),
            lambda: request("POST", D.base + "/v1/models/iris_species:predict", {"instances": []}),
            lambda: iris_v2([1] * 200000, [1]),
        ]
        for i in range(20):
            status, _, body = bad[i % len(bad)]()
            self.assertEqual(status, 400, body)
            self.assertLessEqual(len(body["error"].encode()), MAX_ERROR_BYTES)
        self.assertIn("declares more elements", iris_v2([2 ** 62, 4], [])[2]["error"])
        self.assertIn("input 'features': shape [0,4] has no elements", iris_v2([0, 4], [])[2]["error"])
        self.assertIn("at most 16", iris_v2([1] * 200000, [1])[2]["error"])
        status, _, body = iris_v2([1, 4], IRIS_ROW)
        self.assertEqual(status, 200, body)
        self.assertEqual(request("GET", D.base + "/v2/models/iris_species/ready")[0], 200)

    def test_v1_rows_must_have_exactly_the_row_shape(self):
        url = D.base + "/v1/models/iris_species:predict"
        status, _, body = request("POST", url, {"instances": [[1, 2, 3, 4, 5], [1, 2, 3]]})
        self.assertEqual(status, 400)
        self.assertIn("instances[0]: input 'features' has a row of shape [5], expected [4]",
                      body["error"])
        status, _, body = request("POST", url, {"instances": [IRIS_ROW, [1, 2, [3], 4]]})
        self.assertEqual(status, 400)
        self.assertIn("instances[1]: input 'features' is ragged", body["error"])
        status, _, body = request("POST", url, {"instances": [IRIS_ROW, IRIS_ROW]})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["predictions"]), 2)

    def test_enormous_timeouts_mean_no_client_deadline(self):
        for timeout in (INT64_MAX, 10 ** 16, 2 ** 64 - 1):
            status, _, body = iris_v2([1, 4], IRIS_ROW, parameters={"timeout": timeout})
            self.assertEqual(status, 200, (timeout, body))
        status, _, body = raw_post("/v2/models/iris_species/infer", (
            '{"parameters": {"timeout": 1e16}, "inputs": [{"name": "features", "datatype": "FP64",'
            ' "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}').encode())
        self.assertEqual(status, 200, body)
        for timeout in (-1, 0, 1.5, "soon"):
            status, _, body = iris_v2([1, 4], IRIS_ROW, parameters={"timeout": timeout})
            self.assertEqual(status, 400, timeout)
            self.assertIn("parameter 'timeout' must be a positive integer", body["error"])

    def test_long_names_do_not_make_long_errors(self):
        body = {"inputs": [{"name": "n" * 100000, "datatype": "FP64", "shape": [1], "data": [1]}]}
        status, _, resp = request("POST", D.base + "/v2/models/iris_species/infer", body)
        self.assertEqual(status, 400)
        self.assertLessEqual(len(resp["error"].encode()), MAX_ERROR_BYTES)
        self.assertTrue(resp["error"].endswith("…"), resp["error"][-20:])


class RequestIdTest(unittest.TestCase):
    def test_rest_ids_follow_the_rule(self):
        status, hdrs, body = iris_v2([1, 4], IRIS_ROW)
        self.assertEqual(status, 200)
        generated = hdrs["x-request-id"]
        self.assertEqual(body["id"], generated)
        for bad in ("a b", "x" * 129):
            status, hdrs, body = request("POST", D.base + "/v2/models/iris_species/infer",
                                         {"inputs": []}, headers={"x-request-id": bad})
            self.assertEqual(status, 400, bad)
            self.assertIn("request id in header x-request-id must be 1 to 128 bytes", body["error"])
            self.assertNotEqual(hdrs.get("x-request-id"), bad)
        for bad in ("x\ny", "a\tb", "é", ""):
            status, _, body = iris_v2([1, 4], IRIS_ROW, id=bad)
            if bad == "":
                self.assertEqual(status, 200)  # empty: a generated id
                self.assertTrue(body["id"].startswith("mg-"), body)
                continue
            self.assertEqual(status, 400, bad)
            self.assertIn("request id in body field 'id'", body["error"])

    def test_one_id_for_header_body_and_access_log(self):
        body = {"id": "sec-body-1", "inputs": [{"name": "features", "datatype": "FP64",
                                                "shape": [1, 4], "data": IRIS_ROW}]}
        status, hdrs, resp = request("POST", D.base + "/v2/models/iris_species/infer", body,
                                     headers={"x-request-id": "sec-header-1"})
        self.assertEqual(status, 200)
        self.assertEqual((hdrs["x-request-id"], resp["id"]), ("sec-body-1", "sec-body-1"))
        access = []
        deadline = time.monotonic() + 10
        while not access and time.monotonic() < deadline:
            records = [json.loads(l) for l in D.log().splitlines() if l.startswith("{")]
            access = [r for r in records if str(r.get("msg", "")).startswith("access")
                      and r.get("request_id") in ("sec-body-1", "sec-header-1")]
            if not access:
                time.sleep(0.1)
        self.assertEqual([r["request_id"] for r in access], ["sec-body-1"])

    def test_grpc_ids_follow_the_rule_and_never_abort_the_daemon(self):
        for bad in ("é", "x\ny", "a\tb", "a b", "x" * 129):
            with self.assertRaises(grpc.RpcError) as e:
                iris_grpc([1, 4], request_id=bad)
            self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, bad)
            self.assertIn("request id in field 'id'", e.exception.details())
            trailing = dict(e.exception.trailing_metadata())
            self.assertTrue(trailing["x-request-id"].startswith("mg-"), trailing)
        with self.assertRaises(grpc.RpcError) as e:
            iris_grpc([1, 4], metadata=(("x-request-id", "a b"),))
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("request id in metadata x-request-id", e.exception.details())
        resp, call = iris_grpc([1, 4], metadata=(("x-request-id", "sec-grpc-1"),))
        self.assertEqual(resp.id, "sec-grpc-1")
        self.assertIn(("x-request-id", "sec-grpc-1"), tuple(call.trailing_metadata()))
        self.assertTrue(STUB.ServerLive(pb.ServerLiveRequest()).live)


class GrpcShapeTest(unittest.TestCase):
    def test_shape_mistakes_are_invalid_argument_with_short_messages(self):
        cases = [([1] * 200000, "at most 16"), ([2 ** 62, 4], "declares more elements"),
                 ([0, 4], "has no elements")]
        for shape, fragment in cases:
            with self.assertRaises(grpc.RpcError) as e:
                iris_grpc(shape, raw=b"")
            self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, fragment)
            self.assertIn(fragment, e.exception.details())
            self.assertLessEqual(len(e.exception.details().encode()), MAX_ERROR_BYTES)
        self.assertEqual(request("GET", D.base + "/v2/models/iris_species/ready")[0], 200)

    def test_far_deadlines_do_not_wrap_into_the_past(self):
        for seconds in (10 ** 9, 10 ** 7):
            resp, _ = iris_grpc([1, 4], timeout=seconds)
            self.assertEqual(resp.model_name, "iris_species")


class WorkerResultTest(unittest.TestCase):
    def assert_internal(self, status, body, *fragments):
        self.assertEqual(status, 500, body)
        for f in fragments:
            self.assertIn(f, body["error"])

    def test_absurd_output_shapes_are_500_naming_model_output_and_shape(self):
        for mode in (1, 2):
            for v1 in (False, True):
                status, _, body = malformed(mode, v1)
                self.assert_internal(status, body, "model 'malformed_py' output 'y'",
                                     "[4611686018427387904,4]")
        status, _, body = malformed(3, v1=True)
        self.assert_internal(status, body, "model 'malformed_py' output 'y'", "[20000000,0]")
        status, _, body = malformed(6)
        self.assert_internal(status, body, "shape [3] needs 3 elements, the worker sent 1")
        with self.assertRaises(grpc.RpcError) as e:
            r = pb.ModelInferRequest(model_name="malformed_py")
            r.inputs.add(name="x", datatype="FP64", shape=[2]).contents.fp64_contents.extend([1, 1])
            STUB.ModelInfer(r, timeout=30)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INTERNAL)
        self.assertEqual(malformed(0)[0], 200)
        self.assertEqual(request("GET", D.base + "/v2/health/live")[0], 200)

    def test_non_utf8_bytes_output_is_an_error_in_json_and_intact_over_grpc(self):
        for v1 in (False, True):
            status, hdrs, body = malformed(4, v1)
            self.assertIsInstance(body, dict)  # the answer is valid JSON
            self.assert_internal(status, body, "model 'malformed_py' output 'y' element 1",
                                 "not valid UTF-8", "gRPC")
        r = pb.ModelInferRequest(model_name="malformed_py")
        r.inputs.add(name="x", datatype="FP64", shape=[2]).contents.fp64_contents.extend([4, 1])
        resp = STUB.ModelInfer(r, timeout=30)
        self.assertEqual(list(resp.outputs[0].contents.bytes_contents), [b"ok", b"\xff\xfe bad"])

    def test_fp16_outputs_come_back_as_numbers(self):
        status, _, body = malformed(5)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["outputs"][0]["datatype"], "FP16")
        self.assertEqual(body["outputs"][0]["data"], [5.0, 1.0])
        status, _, body = malformed(5, v1=True)
        self.assertEqual((status, body["predictions"]), (200, [5.0, 1.0]))

    def test_r_doubles_become_the_declared_fp16_and_bf16(self):
        inputs = [{"name": "x", "datatype": "FP64", "shape": [3], "data": [1.5, -2, 65504]}]
        status, _, body = request("POST", D.base + "/v2/models/half_r/infer", {"inputs": inputs})
        self.assertEqual(status, 200, body)
        self.assertEqual([(o["name"], o["datatype"], o["data"]) for o in body["outputs"]],
                         [("y", "FP16", [1.5, -2.0, 65504.0]), ("z", "BF16", [1.5, -2.0, 65536.0])])
        r = pb.ModelInferRequest(model_name="half_r")
        r.inputs.add(name="x", datatype="FP64", shape=[2]).contents.fp64_contents.extend([1.5, -2])
        resp = STUB.ModelInfer(r, timeout=30)
        self.assertEqual(np.frombuffer(resp.raw_output_contents[0], dtype="<f2").tolist(), [1.5, -2])
        self.assertEqual(resp.raw_output_contents[1], bytes.fromhex("c03f00c0"))
        # 1e6 has no FP16 value: a 500 naming the output and the element.
        inputs[0]["data"] = [1, 1e6, 2]
        status, _, body = request("POST", D.base + "/v2/models/half_r/infer", {"inputs": inputs})
        self.assertEqual(status, 500, body)
        self.assertIn("output 'y': element 1", body["error"])
        self.assertIn("has no FP16 value", body["error"])

    def test_fp16_outputs_come_back_raw_over_grpc_with_their_data(self):
        # FP16 has no typed contents field: a typed request gets every output raw.
        for raw in (False, True):
            r = pb.ModelInferRequest(model_name="malformed_py")
            x = r.inputs.add(name="x", datatype="FP64", shape=[2])
            if raw:
                r.raw_input_contents.append(np.array([5, 1], dtype="<f8").tobytes())
            else:
                x.contents.fp64_contents.extend([5, 1])
            resp = STUB.ModelInfer(r, timeout=30)
            self.assertEqual(resp.outputs[0].datatype, "FP16")
            self.assertFalse(resp.outputs[0].HasField("contents"))
            self.assertEqual(len(resp.raw_output_contents), 1)
            self.assertEqual(np.frombuffer(resp.raw_output_contents[0], dtype="<f2").tolist(),
                             [5.0, 1.0])


if __name__ == "__main__":
    unittest.main()
