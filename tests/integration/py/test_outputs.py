"""The output contract and the missing-value rule against the real daemon
with real R and Python workers: each contract violation is a 500 naming model,
version, output, declared and received; NA, NaN and the infinities round trip
over JSON (the README's rule), binary REST and gRPC (bit for bit)."""

import http.client
import json
import struct
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, request, wait_for

D = None
STUB = None
RUNTIMES = ("py", "r")

NA64 = np.array([0x7FF00000000007A2], dtype="<u8").view("<f8")[0]  # R's NA_real_
NA32 = np.array([0x7FC007A2], dtype="<u4").view("<f4")[0]          # modelgate's FP32 NA
# NA, NaN, +Inf, -Inf, 1.5 as each path carries them.
X64 = np.array([NA64, np.nan, np.inf, -np.inf, 1.5], dtype="<f8")
X32 = np.array([NA32, np.nan, np.inf, -np.inf, 1.5], dtype="<f4")
JSON_RULE = [None, "NaN", "Infinity", "-Infinity", 1.5]


def setUpModule():
    global D, STUB
    D = Daemon(make_repository(examples=(), test_models=(
        "contract_py", "contract_r", "missing_py", "missing_r", "missing32_r")))
    D.wait_ready()
    STUB = pb_grpc.GRPCInferenceServiceStub(grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}"))


def tearDownModule():
    D.cleanup()


def infer_case(model, case):
    return request("POST", f"{D.base}/v2/models/{model}/infer",
                   {"inputs": [{"name": "case", "datatype": "INT32", "shape": [1],
                                "data": [case]}]})


def bits(arr):
    return arr.tobytes().hex()


class OutputContractTest(unittest.TestCase):
    def test_a_kept_contract_is_served_and_undeclared_outputs_dropped_and_logged_once(self):
        for rt in RUNTIMES:
            for _ in range(3):
                status, _, body = infer_case(f"contract_{rt}", 0)
                self.assertEqual(status, 200, body)
                self.assertEqual([o["name"] for o in body["outputs"]], ["y", "s"])
                self.assertEqual(body["outputs"][0]["data"], [1.0])
                self.assertEqual(body["outputs"][1]["data"], ["ok"])
        for rt in RUNTIMES:
            self.assertTrue(wait_for(lambda: f"contract_{rt}" in "".join(self.undeclared_lines()),
                                     timeout=10), D.log()[-3000:])
        lines = self.undeclared_lines()
        for rt in RUNTIMES:
            mine = [json.loads(l) for l in lines if f'"contract_{rt}"' in l]
            self.assertEqual(len(mine), 1, lines)  # once per model version, not per request
            self.assertEqual(mine[0]["outputs"], "extra")
            self.assertEqual(mine[0]["version"], 1)

    @staticmethod
    def undeclared_lines():
        return [l for l in D.log().splitlines() if "model returned undeclared outputs" in l]

    def expect_500(self, model, case, fragments):
        status, _, body = infer_case(model, case)
        self.assertEqual(status, 500, body)
        for f in fragments:
            self.assertIn(f, body["error"])

    def test_a_shape_other_than_declared_is_500_naming_both(self):
        for rt in RUNTIMES:
            self.expect_500(f"contract_{rt}", 1, [
                f"model 'contract_{rt}' version 1 output 'y': shape [3] does not match the "
                "declared [1]"])

    def test_a_missing_output_lists_what_was_returned(self):
        for rt in RUNTIMES:
            self.expect_500(f"contract_{rt}", 2, [
                f"model 'contract_{rt}' version 1 returned no output 'y'; it returned s, other"])

    def test_a_number_for_a_declared_bytes_output_is_500(self):
        for rt in RUNTIMES:
            self.expect_500(f"contract_{rt}", 3, [
                f"model 'contract_{rt}' version 1 output 's': datatype FP64 does not match "
                "the declared BYTES"])

    def test_none_or_na_in_bytes_is_an_error_naming_output_and_element(self):
        self.expect_500("contract_py", 4, ["output 's': element 1 is None, which BYTES cannot"])
        self.expect_500("contract_r", 4, ["output 's': element 1 is NA, which BYTES cannot"])

    def test_objects_and_integer_na_are_errors_never_strings(self):
        self.expect_500("contract_py", 5, ["output 's': element 0 is an object of type dict, which BYTES cannot"])
        self.expect_500("contract_r", 5, ["output 'y': element 0 is NA, which INT32 cannot"])

    def test_the_same_violations_over_grpc_are_internal(self):
        for rt in RUNTIMES:
            r = pb.ModelInferRequest(model_name=f"contract_{rt}")
            r.inputs.add(name="case", datatype="INT32", shape=[1]).contents.int_contents.append(1)
            with self.assertRaises(grpc.RpcError) as e:
                STUB.ModelInfer(r, timeout=60)
            self.assertEqual(e.exception.code(), grpc.StatusCode.INTERNAL)
            self.assertIn("output 'y': shape [3] does not match the declared [1]",
                          e.exception.details())

    def test_the_daemon_keeps_serving_after_violations(self):
        for rt in RUNTIMES:
            for case in (1, 2, 3, 4, 5):
                self.assertEqual(infer_case(f"contract_{rt}", case)[0], 500)
            self.assertEqual(infer_case(f"contract_{rt}", 0)[0], 200)


class MissingValuesTest(unittest.TestCase):
    def test_json_round_trip_keeps_na_nan_and_infinities_apart(self):
        for rt in RUNTIMES:
            status, _, body = request("POST", f"{D.base}/v2/models/missing_{rt}/infer", {
                "inputs": [{"name": "x", "datatype": "FP64", "shape": [5], "data": JSON_RULE}]})
            self.assertEqual(status, 200, body)
            outs = {o["name"]: o for o in body["outputs"]}
            self.assertEqual(outs["y"]["data"], JSON_RULE, rt)
            self.assertEqual(outs["z"]["datatype"], "FP32")
            self.assertEqual(outs["z"]["data"], JSON_RULE, rt)  # NA stays NA through FP32
            self.assertEqual(outs["c"]["data"], JSON_RULE, rt)  # the model's own NA

    def test_fp32_na_reaches_r_as_na_and_comes_back(self):
        status, _, body = request("POST", f"{D.base}/v2/models/missing32_r/infer", {
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [5], "data": JSON_RULE}]})
        self.assertEqual(status, 200, body)
        outs = {o["name"]: o["data"] for o in body["outputs"]}
        self.assertEqual(outs["na"], [True, False, False, False, False])
        self.assertEqual(outs["y"], JSON_RULE)
        self.assertEqual(outs["z"], JSON_RULE)

    def test_binary_rest_round_trip_is_bit_exact(self):
        for rt in RUNTIMES:
            raw = X64.tobytes()
            head = json.dumps({
                "inputs": [{"name": "x", "datatype": "FP64", "shape": [5],
                            "parameters": {"binary_data_size": len(raw)}}],
                "parameters": {"binary_data_output": True}}).encode()
            conn = http.client.HTTPConnection("127.0.0.1", D.http_port, timeout=60)
            try:
                conn.request("POST", f"/v2/models/missing_{rt}/infer", body=head + raw,
                             headers={"Inference-Header-Content-Length": str(len(head)),
                                      "Content-Type": "application/octet-stream"})
                resp = conn.getresponse()
                data, status = resp.read(), resp.status
                size = int(resp.getheader("Inference-Header-Content-Length"))
            finally:
                conn.close()
            self.assertEqual(status, 200, data[:500])
            at, got = size, {}
            for o in json.loads(data[:size])["outputs"]:
                n = o["parameters"]["binary_data_size"]
                got[o["name"]] = data[at:at + n]
                at += n
            self.assertEqual(at, len(data))
            self.assertEqual(got["y"].hex(), bits(X64), rt)
            self.assertEqual(got["z"].hex(), bits(X32), rt)
            self.assertEqual(got["c"].hex(), bits(X64), rt)

    def test_grpc_round_trip_is_bit_exact_raw_and_typed(self):
        for rt in RUNTIMES:
            for raw in (True, False):
                r = pb.ModelInferRequest(model_name=f"missing_{rt}")
                t = r.inputs.add(name="x", datatype="FP64", shape=[5])
                if raw:
                    r.raw_input_contents.append(X64.tobytes())
                else:
                    t.contents.fp64_contents.extend(X64.tolist())
                resp = STUB.ModelInfer(r, timeout=60)
                got = {}
                for i, o in enumerate(resp.outputs):
                    if raw:
                        got[o.name] = resp.raw_output_contents[i]
                    elif o.datatype == "FP64":
                        got[o.name] = struct.pack("<5d", *o.contents.fp64_contents)
                    else:
                        got[o.name] = struct.pack("<5f", *o.contents.fp32_contents)
                self.assertEqual(got["y"].hex(), bits(X64), (rt, raw))
                self.assertEqual(got["z"].hex(), bits(X32), (rt, raw))
                self.assertEqual(got["c"].hex(), bits(X64), (rt, raw))

    def test_json_refuses_other_strings_for_floats_naming_the_input(self):
        status, _, body = request("POST", f"{D.base}/v2/models/missing_py/infer", {
            "inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": ["nan"]}]})
        self.assertEqual(status, 400, body)
        self.assertIn("input 'x': FP64 data must be numbers, null (NA)", body["error"])


if __name__ == "__main__":
    unittest.main()
