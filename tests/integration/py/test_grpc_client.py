"""The KServe V2 gRPC service and grpc.health.v1 through Python's grpcio."""

import struct
import subprocess
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
import health_pb2
import health_pb2_grpc
from daemon import BINARY, Daemon, make_repository, reference_r_predictions, reference_sklearn

D = None
STUB = None
HEALTH = None


def setUpModule():
    global D, STUB, HEALTH
    D = Daemon(make_repository(test_models=("load_fail_py",)))
    D.wait_ready()
    channel = grpc.insecure_channel(f"127.0.0.1:{D.grpc_port}")
    STUB = pb_grpc.GRPCInferenceServiceStub(channel)
    HEALTH = health_pb2_grpc.HealthStub(channel)


def tearDownModule():
    D.cleanup()


def mtcars_request(rows, raw):
    r = pb.ModelInferRequest(model_name="mtcars_am", id="py-1")
    for i, name in enumerate(("wt", "hp")):
        t = r.inputs.add(name=name, datatype="FP64", shape=[len(rows)])
        values = [row[i] for row in rows]
        if raw:
            r.raw_input_contents.append(np.asarray(values, dtype="<f8").tobytes())
        else:
            t.contents.fp64_contents.extend(values)
    return r


class GrpcTest(unittest.TestCase):
    def test_server_and_model_status(self):
        self.assertTrue(STUB.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(STUB.ServerReady(pb.ServerReadyRequest()).ready)
        self.assertTrue(STUB.ModelReady(pb.ModelReadyRequest(name="iris_species")).ready)
        self.assertTrue(STUB.ModelReady(pb.ModelReadyRequest(name="iris_species", version="1")).ready)
        self.assertFalse(STUB.ModelReady(pb.ModelReadyRequest(name="load_fail_py")).ready)
        meta = STUB.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(meta.name, "modelgate")
        out = subprocess.run([BINARY, "--version"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, f"modelgate {meta.version}\n")
        m = STUB.ModelMetadata(pb.ModelMetadataRequest(name="mtcars_am"))
        self.assertEqual(m.platform, "modelgate_r")
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in m.inputs],
                         [("wt", "FP64", [-1]), ("hp", "FP64", [-1])])

    def test_typed_contents_match_r(self):
        rows = [(2.62, 110.0), (3.57, 245.0)]
        expected = reference_r_predictions(rows)
        resp, call = STUB.ModelInfer.with_call(mtcars_request(rows, raw=False))
        self.assertEqual(resp.id, "py-1")
        self.assertEqual(len(resp.raw_output_contents), 0)
        self.assertEqual(list(resp.outputs[0].shape), [2])
        for got, want in zip(resp.outputs[0].contents.fp64_contents, expected):
            self.assertAlmostEqual(got, want, places=12)
        self.assertIn(("x-request-id", "py-1"), tuple(call.trailing_metadata()))

    def test_raw_contents_are_answered_raw(self):
        rows = [(2.62, 110.0), (3.57, 245.0), (1.5, 90.0)]
        expected = reference_r_predictions(rows)
        resp = STUB.ModelInfer(mtcars_request(rows, raw=True))
        self.assertEqual(len(resp.raw_output_contents), 1)
        got = np.frombuffer(resp.raw_output_contents[0], dtype="<f8")
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)

    def test_sklearn_raw(self):
        x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
        labels, probs = reference_sklearn(x)
        r = pb.ModelInferRequest(model_name="iris_species")
        r.inputs.add(name="features", datatype="FP64", shape=[2, 4])
        r.raw_input_contents.append(x.astype("<f8").tobytes())
        resp = STUB.ModelInfer(r)
        outs = {o.name: i for i, o in enumerate(resp.outputs)}
        self.assertEqual(np.frombuffer(resp.raw_output_contents[outs["label"]], "<i8").tolist(), labels)
        np.testing.assert_allclose(
            np.frombuffer(resp.raw_output_contents[outs["probabilities"]], "<f8").reshape(2, 3),
            probs, atol=1e-12)

    def test_errors_are_grpc_statuses(self):
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelInfer(pb.ModelInferRequest(model_name="nope"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelMetadata(pb.ModelMetadataRequest(name="mtcars_am", version="9"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)
        bad = mtcars_request([(1.0, 2.0)], raw=True)
        bad.raw_input_contents[0] = b"\x00" * 4
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelInfer(bad)
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("input 'wt'", e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            STUB.ModelInfer(pb.ModelInferRequest(model_name="load_fail_py", inputs=[
                pb.ModelInferRequest.InferInputTensor(
                    name="x", datatype="FP64", shape=[1],
                    contents=pb.InferTensorContents(fp64_contents=[1.0]))]))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("artifact missing", e.exception.details())
        # Still serving.
        self.assertEqual(len(STUB.ModelInfer(mtcars_request([(2.0, 100.0)], raw=True)).outputs), 1)

    def test_health_service(self):
        S = health_pb2.HealthCheckResponse
        self.assertEqual(HEALTH.Check(health_pb2.HealthCheckRequest(service="")).status, S.SERVING)
        self.assertEqual(HEALTH.Check(health_pb2.HealthCheckRequest(service="mtcars_am")).status,
                         S.SERVING)
        self.assertEqual(HEALTH.Check(health_pb2.HealthCheckRequest(service="load_fail_py")).status,
                         S.NOT_SERVING)
        self.assertEqual(HEALTH.Check(health_pb2.HealthCheckRequest(service="modelgate.liveness")).status,
                         S.SERVING)
        with self.assertRaises(grpc.RpcError) as e:
            HEALTH.Check(health_pb2.HealthCheckRequest(service="no_such_model"))
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)


if __name__ == "__main__":
    unittest.main()
