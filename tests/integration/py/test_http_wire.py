"""REST wire details against the real daemon with real Python and R workers:
compressed requests and responses (gzip and deflate, JSON and binary tensor
bodies, built the way tritonclient's request_compression_algorithm /
response_compression_algorithm build them), a zip bomb, trailing bytes after
the JSON, GET / liveness, one request id per request, and TF-Serving's
columnar V1 form. Plain http.client on 127.0.0.1."""

import gzip
import http.client
import json
import struct
import unittest
import zlib

import numpy as np

from daemon import Daemon, make_repository, wait_for

D = None
LIMIT = 16 * 1024 * 1024  # --max-request-bytes: a 64 MiB bomb is far over it


def setUpModule():
    global D
    D = Daemon(make_repository(examples=(), test_models=("echo_py", "binary_echo_py", "half_r")),
               extra_args=("--max-request-bytes", str(LIMIT)))
    D.wait_ready()


def tearDownModule():
    D.cleanup()


def post(path, body, headers=None, method="POST"):
    """(status, lower-cased headers, raw body) of one request."""
    conn = http.client.HTTPConnection("127.0.0.1", D.http_port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def compress(data, coding):
    """What tritonclient sends: gzip.compress, or zlib.compress for deflate."""
    return gzip.compress(data) if coding == "gzip" else zlib.compress(data)


def decompress(data, headers):
    coding = headers.get("content-encoding")
    if coding == "gzip":
        return gzip.decompress(data)
    if coding == "deflate":
        return zlib.decompress(data)
    assert coding is None, coding
    return data


def echo_body(values, request_id=None):
    req = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [len(values)],
                       "data": list(values)}]}
    if request_id:
        req["id"] = request_id
    return json.dumps(req).encode()


def output(body, name):
    return next(o for o in body["outputs"] if o["name"] == name)


def access_lines(rid):
    text = D.log()
    recs = [json.loads(line) for line in text[:text.rfind("\n") + 1].splitlines()]
    return [r for r in recs if r["msg"].startswith("access") and r.get("request_id") == rid]


class CompressionTest(unittest.TestCase):
    def test_gzip_and_deflate_json_requests_and_responses(self):
        values = [i / 7 for i in range(400)]  # a response well over 1 KiB
        for coding in ("gzip", "deflate"):
            with self.subTest(coding=coding):
                status, hdrs, raw = post("/v2/models/echo_py/infer",
                                         compress(echo_body(values), coding),
                                         {"Content-Type": "application/json",
                                          "Content-Encoding": coding,
                                          "Accept-Encoding": coding})
                self.assertEqual(status, 200, raw[:300])
                self.assertEqual(hdrs.get("content-encoding"), coding)
                self.assertIn("Accept-Encoding", hdrs.get("vary", ""))
                body = json.loads(decompress(raw, hdrs))
                self.assertEqual(output(body, "y")["data"], values)  # exact round trip
                self.assertLess(len(raw), len(json.dumps(body)))

    def test_raw_deflate_is_accepted_as_deflate(self):
        c = zlib.compressobj(wbits=-15)
        raw_deflate = c.compress(echo_body([1.25, -2.5])) + c.flush()
        status, _, raw = post("/v2/models/echo_py/infer", raw_deflate,
                              {"Content-Encoding": "deflate"})
        self.assertEqual(status, 200, raw)
        self.assertEqual(output(json.loads(raw), "y")["data"], [1.25, -2.5])

    def test_binary_tensor_bodies_compressed_both_ways(self):
        rng = np.random.default_rng(3)
        # Responses over 1 KiB are compressed; the large random body is
        # inflated on the offload pool.
        for rows in (100, 60000):
            f = rng.standard_normal((rows, 2)).astype(np.float32)
            n = rng.integers(-2**62, 2**62, rows, dtype=np.int64)
            h = rng.standard_normal(rows).astype(np.float16)
            s = [bytes([65 + i % 26]) * (i % 5) for i in range(rows)]
            b = rng.integers(0, 2, rows).astype(np.bool_)
            s_raw = b"".join(struct.pack("<I", len(v)) + v for v in s)
            parts = [("f", "FP32", f.shape, f.tobytes()), ("n", "INT64", n.shape, n.tobytes()),
                     ("h", "FP16", h.shape, h.tobytes()), ("s", "BYTES", [rows], s_raw),
                     ("b", "BOOL", b.shape, b.tobytes())]
            head = json.dumps({
                "inputs": [{"name": nm, "datatype": dt, "shape": list(sh),
                            "parameters": {"binary_data_size": len(data)}}
                           for nm, dt, sh, data in parts],
                "parameters": {"binary_data_output": True}}).encode()
            plain = head + b"".join(p[3] for p in parts)
            for coding in ("gzip", "deflate"):
                with self.subTest(rows=rows, coding=coding):
                    status, hdrs, raw = post(
                        "/v2/models/binary_echo_py/infer", compress(plain, coding),
                        {"Content-Type": "application/octet-stream",
                         "Content-Encoding": coding, "Accept-Encoding": coding,
                         # Counts the uncompressed JSON, as tritonclient sends it.
                         "Inference-Header-Content-Length": str(len(head))})
                    self.assertEqual(status, 200, raw[:300])
                    self.assertEqual(hdrs.get("content-encoding"), coding)
                    self.assertEqual(hdrs["content-type"], "application/octet-stream")
                    body = decompress(raw, hdrs)
                    json_size = int(hdrs["inference-header-content-length"])
                    meta = json.loads(body[:json_size])
                    at, got = json_size, {}
                    for o in meta["outputs"]:
                        size = o["parameters"]["binary_data_size"]
                        got[o["name"]] = body[at:at + size]
                        at += size
                    self.assertEqual(at, len(body))
                    for nm, _, _, data in parts:
                        self.assertEqual(got[nm + "_out"], data, nm)  # bit for bit

    def test_small_or_unwanted_responses_stay_uncompressed(self):
        status, hdrs, raw = post("/v2/models/echo_py", None, {"Accept-Encoding": "gzip"},
                                 method="GET")
        self.assertEqual(status, 200)
        self.assertNotIn("content-encoding", hdrs)  # under 1 KiB
        self.assertIn("Accept-Encoding", hdrs.get("vary", ""))
        json.loads(raw)
        big = echo_body([float(i) for i in range(400)])
        for accept in (None, "identity", "gzip;q=0, deflate;q=0", "br"):
            with self.subTest(accept=accept):
                headers = {"Accept-Encoding": accept} if accept else {}
                status, hdrs, raw = post("/v2/models/echo_py/infer", big, headers)
                self.assertEqual(status, 200)
                self.assertNotIn("content-encoding", hdrs)
                self.assertEqual(len(output(json.loads(raw), "y")["data"]), 400)
        status, hdrs, raw = post("/v2/models/echo_py/infer", big,
                                 {"Accept-Encoding": "gzip;q=0.2, deflate;q=0.9"})
        self.assertEqual(hdrs.get("content-encoding"), "deflate")
        json.loads(zlib.decompress(raw))

    def test_zip_bomb_is_413_naming_the_limit_and_the_daemon_keeps_serving(self):
        zeros = b"\0" * (64 * 1024 * 1024)
        for coding in ("gzip", "deflate"):
            bomb = compress(zeros, coding)
            self.assertLess(len(bomb), LIMIT // 64)
            for path in ("/v2/models/echo_py/infer", "/v1/models/half_r:predict"):
                with self.subTest(coding=coding, path=path):
                    status, _, raw = post(path, bomb, {"Content-Encoding": coding})
                    self.assertEqual(status, 413, raw[:300])
                    error = json.loads(raw)["error"]
                    self.assertIn(f"limit of {LIMIT} bytes", error)
                    self.assertIn(coding, error)
        status, _, raw = post("/v2/models/echo_py/infer", echo_body([4.0]))
        self.assertEqual(status, 200, raw)
        self.assertIsNone(D.proc.poll())

    def test_corrupt_or_mislabelled_streams_are_400(self):
        good = gzip.compress(echo_body([1.0]))
        cases = [(good[:len(good) // 2], "gzip", "truncated"),
                 (echo_body([1.0]), "gzip", "does not inflate"),
                 (good + b"trailing", "gzip", "follow the end"),
                 (echo_body([1.0]), "deflate", "does not inflate")]
        for body, coding, fragment in cases:
            with self.subTest(fragment=fragment, coding=coding):
                status, _, raw = post("/v2/models/echo_py/infer", body,
                                      {"Content-Encoding": coding})
                self.assertEqual(status, 400, raw)
                self.assertIn(fragment, json.loads(raw)["error"])
        status, _, raw = post("/v2/models/echo_py/infer", good, {"Content-Encoding": "zstd"})
        self.assertEqual(status, 415, raw)
        self.assertIn("zstd", json.loads(raw)["error"])


class JsonAndRoutesTest(unittest.TestCase):
    def test_trailing_bytes_after_the_document_are_400_naming_the_offset(self):
        valid = echo_body([1.0])
        for tail, fragment in ((b"\0garbage", f"NUL byte at offset {len(valid)}"),
                               (b" garbage", f"at byte {len(valid) + 1}"),
                               (b"{}", f"after the end of the JSON document at byte {len(valid)}")):
            with self.subTest(tail=tail):
                status, _, raw = post("/v2/models/echo_py/infer", valid + tail,
                                      {"Content-Type": "application/json"})
                self.assertEqual(status, 400, raw)
                self.assertIn(fragment, json.loads(raw)["error"])
        # The same through a compressed body and on the V1 route.
        status, _, raw = post("/v2/models/echo_py/infer", gzip.compress(valid + b"\0x"),
                              {"Content-Encoding": "gzip"})
        self.assertEqual(status, 400, raw)
        status, _, raw = post("/v1/models/half_r:predict", b'{"instances": [1]} x')
        self.assertEqual(status, 400, raw)
        self.assertIn("after the end of the JSON document", json.loads(raw)["error"])

    def test_root_answers_liveness(self):
        status, hdrs, raw = post("/", None, method="GET")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(raw), {"live": True})
        self.assertTrue(hdrs.get("x-request-id"))
        status, _, _ = post("/", b"{}", method="POST")
        self.assertEqual(status, 405)


class RequestIdTest(unittest.TestCase):
    def test_the_body_id_wins_over_the_header_everywhere(self):
        status, hdrs, raw = post("/v2/models/echo_py/infer", echo_body([1.0], "wire-body-1"),
                                 {"x-request-id": "wire-header-1"})
        self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(raw)["id"], "wire-body-1")
        self.assertEqual(hdrs["x-request-id"], "wire-body-1")
        self.assertTrue(wait_for(lambda: access_lines("wire-body-1"), timeout=10))
        self.assertEqual(access_lines("wire-header-1"), [])

    def test_the_header_id_without_a_body_id_and_a_generated_one_without_either(self):
        status, hdrs, raw = post("/v2/models/echo_py/infer", echo_body([1.0]),
                                 {"x-request-id": "wire-header-2"})
        self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(raw)["id"], "wire-header-2")
        self.assertEqual(hdrs["x-request-id"], "wire-header-2")
        self.assertTrue(wait_for(lambda: access_lines("wire-header-2"), timeout=10))
        status, hdrs, raw = post("/v2/models/echo_py/infer", echo_body([1.0]))
        generated = hdrs["x-request-id"]
        self.assertTrue(generated.startswith("mg-"), generated)
        self.assertEqual(json.loads(raw)["id"], generated)
        self.assertTrue(wait_for(lambda: access_lines(generated), timeout=10))

    def test_binary_and_compressed_answers_carry_the_body_id(self):
        f = np.array([[1.5, 2.5]], dtype=np.float32)
        head = json.dumps({"id": "wire-binary-1", "inputs": [
            {"name": "f", "datatype": "FP32", "shape": [1, 2],
             "parameters": {"binary_data_size": 8}},
            {"name": "n", "datatype": "INT64", "shape": [1], "data": [1]},
            {"name": "h", "datatype": "FP16", "shape": [1],
             "parameters": {"binary_data_size": 2}},
            {"name": "s", "datatype": "BYTES", "shape": [1], "data": ["a"]},
            {"name": "b", "datatype": "BOOL", "shape": [1], "data": [True]}],
            "outputs": [{"name": "f_out", "parameters": {"binary_data": True}}]}).encode()
        status, hdrs, raw = post("/v2/models/binary_echo_py/infer",
                                 gzip.compress(head + f.tobytes() + np.float16(1).tobytes()),
                                 {"Content-Encoding": "gzip", "x-request-id": "wire-header-3",
                                  "Inference-Header-Content-Length": str(len(head))})
        self.assertEqual(status, 200, raw)
        size = int(hdrs["inference-header-content-length"])
        self.assertEqual(json.loads(raw[:size])["id"], "wire-binary-1")
        self.assertEqual(raw[size:], f.tobytes())
        self.assertEqual(hdrs["x-request-id"], "wire-binary-1")
        self.assertTrue(wait_for(lambda: access_lines("wire-binary-1"), timeout=10))


class V1ColumnarTest(unittest.TestCase):
    def test_named_and_bare_columnar_inputs_get_columnar_outputs(self):
        # half_r (R): y (FP16) and z (BF16) are x converted; 1.5 and 2.5 are exact in both.
        for body in ({"inputs": {"x": [1.5, 2.5]}}, {"inputs": [1.5, 2.5]}):
            with self.subTest(body=body):
                status, _, raw = post("/v1/models/half_r:predict", json.dumps(body).encode())
                self.assertEqual(status, 200, raw)
                self.assertEqual(json.loads(raw), {"outputs": {"y": [1.5, 2.5],
                                                               "z": [1.5, 2.5]}})
        # The row form is unchanged.
        status, _, raw = post("/v1/models/half_r:predict", b'{"instances": [1.5, 2.5]}')
        self.assertEqual(status, 200, raw)
        self.assertEqual(json.loads(raw), {"predictions": [{"y": 1.5, "z": 1.5},
                                                           {"y": 2.5, "z": 2.5}]})

    def test_columnar_compressed_and_errors(self):
        values = [float(i) for i in range(600)]
        status, hdrs, raw = post("/v1/models/half_r:predict",
                                 gzip.compress(json.dumps({"inputs": {"x": values}}).encode()),
                                 {"Content-Encoding": "gzip", "Accept-Encoding": "deflate"})
        self.assertEqual(status, 200, raw[:300])
        self.assertEqual(hdrs.get("content-encoding"), "deflate")
        self.assertEqual(json.loads(zlib.decompress(raw))["outputs"]["y"], values)
        for body, fragment in (({"inputs": {"x": [1], "w": [2]}}, "unknown input 'w'"),
                               ({"inputs": {}}, "missing input 'x'"),
                               ({"inputs": {"x": [[1], [2, 3]]}}, "ragged"),
                               ({"inputs": {"x": [1]}, "instances": [1]}, "not both")):
            with self.subTest(body=body):
                status, _, raw = post("/v1/models/half_r:predict", json.dumps(body).encode())
                self.assertEqual(status, 400, raw)
                self.assertIn(fragment, json.loads(raw)["error"])


if __name__ == "__main__":
    unittest.main()
