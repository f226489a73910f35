"""Triton's binary tensor data extension over REST against the real daemon and
real Python and R workers. Requests are built the way tritonclient's HTTP
client builds them (json.dumps, numpy tobytes, struct.pack of the JSON and the
binary parts, the Inference-Header-Content-Length header) and sent with
http.client; responses are split by that header and compared bit for bit."""

import http.client
import json
import struct
import unittest

import numpy as np

from daemon import Daemon, make_repository, request

D = None


def setUpModule():
    global D
    D = Daemon(make_repository(examples=(), test_models=("binary_echo_py", "half_r")))
    D.wait_ready()


def tearDownModule():
    D.cleanup()


def serialize_bytes(values):
    """tritonclient.utils.serialize_byte_tensor: 4-byte LE length + bytes each."""
    return b"".join(struct.pack("<I", len(v)) + v for v in values)


def deserialize_bytes(data):
    out, at = [], 0
    while at < len(data):
        (n,) = struct.unpack_from("<I", data, at)
        out.append(bytes(data[at + 4:at + 4 + n]))
        at += 4 + n
    return out


class Input:
    """tritonclient.http.InferInput with set_data_from_numpy(binary_data=...)."""

    def __init__(self, name, datatype, array, binary=True):
        self.name, self.datatype, self.array, self.binary = name, datatype, array, binary

    def raw(self):
        if self.datatype == "BYTES":
            return serialize_bytes([v.encode() for v in self.array.ravel()])
        return self.array.tobytes()

    def tensor(self):
        t = {"name": self.name, "shape": list(self.array.shape), "datatype": self.datatype}
        if self.binary:
            t["parameters"] = {"binary_data_size": len(self.raw())}
        elif self.datatype == "BYTES":
            t["data"] = [v for v in self.array.ravel()]
        else:
            t["data"] = self.array.ravel().tolist()
        return t


def build_request(inputs, outputs=None, parameters=None):
    """tritonclient.http._utils._get_inference_request: (body, json_size or None)."""
    req, params = {"inputs": [i.tensor() for i in inputs]}, dict(parameters or {})
    if outputs:
        req["outputs"] = [{"name": n, "parameters": {"binary_data": b}} for n, b in outputs]
    else:
        params["binary_data_output"] = True
    if params:
        req["parameters"] = params
    body = json.dumps(req)
    json_size = len(body)
    binary = b"".join(i.raw() for i in inputs if i.binary)
    if binary:
        return struct.pack(f"{len(body)}s{len(binary)}s", body.encode(), binary), json_size
    return body.encode(), None


def post(model, body, json_size):
    """(status, headers, response JSON, {output name: binary bytes})."""
    headers = {"Content-Type": "application/octet-stream"}
    if json_size is not None:
        headers["Inference-Header-Content-Length"] = str(json_size)
    conn = http.client.HTTPConnection("127.0.0.1", D.http_port, timeout=60)
    try:
        conn.request("POST", f"/v2/models/{model}/infer", body=body, headers=headers)
        resp = conn.getresponse()
        raw, hdrs, status = resp.read(), {k.lower(): v for k, v in resp.getheaders()}, resp.status
    finally:
        conn.close()
    size = int(hdrs.get("inference-header-content-length", len(raw)))
    head = json.loads(raw[:size])
    binary, at = {}, size
    for out in head.get("outputs", []):
        n = out.get("parameters", {}).get("binary_data_size")
        if n is not None:
            binary[out["name"]] = raw[at:at + n]
            at += n
    if status == 200:
        assert at == len(raw), f"{len(raw) - at} bytes after the last binary output"
    return status, hdrs, head, binary


F = np.array([[1.5, -0.0], [np.nan, np.inf], [-np.inf, 3.4028235e38]], dtype=np.float32)
N = np.array([0, -1, 2**62, -(2**63)], dtype=np.int64)
H = np.array([1.0, -2.5, 65504.0, np.inf], dtype=np.float16)
S = np.array(["", "héllo", "a\x00b", "x" * 300], dtype=object)
B = np.array([True, False, True], dtype=bool)


def echo_inputs(binary=(True, True, True, True, True)):
    return [Input("f", "FP32", F, binary[0]), Input("n", "INT64", N, binary[1]),
            Input("h", "FP16", H, binary[2]), Input("s", "BYTES", S, binary[3]),
            Input("b", "BOOL", B, binary[4])]


class BinaryDataTest(unittest.TestCase):
    def check_numbers(self, head, binary, json_outputs=()):
        outs = {o["name"]: o for o in head["outputs"]}
        expected = {"f_out": F, "n_out": N, "h_out": H, "b_out": B}
        for name, arr in expected.items():
            self.assertEqual(outs[name]["shape"], list(arr.shape))
            if name in json_outputs:
                self.assertNotIn("parameters", outs[name])
                continue
            self.assertNotIn("data", outs[name])
            self.assertEqual(outs[name]["parameters"]["binary_data_size"], arr.nbytes)
            # Bit for bit: NaN, -0 and the infinities included.
            self.assertEqual(binary[name], arr.tobytes(), name)
        if "s_out" not in json_outputs:
            self.assertEqual(deserialize_bytes(binary["s_out"]), [v.encode() for v in S])

    def test_binary_inputs_and_outputs_come_back_bit_for_bit(self):
        body, size = build_request(echo_inputs(), outputs=[
            ("f_out", True), ("n_out", True), ("h_out", True), ("s_out", True), ("b_out", True)])
        status, hdrs, head, binary = post("binary_echo_py", body, size)
        self.assertEqual(status, 200, head)
        self.assertEqual(hdrs["content-type"], "application/octet-stream")
        self.assertEqual([o["name"] for o in head["outputs"]],
                         ["f_out", "n_out", "h_out", "s_out", "b_out"])
        self.check_numbers(head, binary)

    def test_no_outputs_listed_returns_every_output_binary(self):
        # tritonclient's default when infer() gets no outputs: binary_data_output.
        body, size = build_request(echo_inputs())
        status, _, head, binary = post("binary_echo_py", body, size)
        self.assertEqual(status, 200, head)
        self.assertEqual(len(binary), 5)
        self.check_numbers(head, binary)

    def test_mixed_json_and_binary_inputs_and_outputs(self):
        # n and s as JSON between binary inputs; n_out and b_out asked for as JSON.
        inputs = echo_inputs(binary=(True, False, True, False, True))
        body, size = build_request(inputs, outputs=[
            ("f_out", True), ("n_out", False), ("h_out", True), ("s_out", True), ("b_out", False)])
        status, _, head, binary = post("binary_echo_py", body, size)
        self.assertEqual(status, 200, head)
        outs = {o["name"]: o for o in head["outputs"]}
        self.assertEqual(outs["n_out"]["data"], N.tolist())
        self.assertEqual(outs["b_out"]["data"], B.tolist())
        self.check_numbers(head, binary, json_outputs=("n_out", "b_out"))

    def test_binary_data_output_with_a_per_output_override(self):
        body, size = build_request(
            [Input("f", "FP32", F[:1]), Input("n", "INT64", N), Input("h", "FP16", H),
             Input("s", "BYTES", S), Input("b", "BOOL", B)],
            outputs=None, parameters={})
        req = json.loads(body[:size])
        req["outputs"] = [{"name": "f_out", "parameters": {"binary_data": False}},
                          {"name": "n_out"}]
        req["parameters"] = {"binary_data_output": True}
        text = json.dumps(req).encode()
        status, _, head, binary = post("binary_echo_py", text + body[size:], len(text))
        self.assertEqual(status, 200, head)
        self.assertEqual([o["name"] for o in head["outputs"]], ["f_out", "n_out"])
        self.assertEqual(head["outputs"][0]["data"], [1.5, -0.0])
        self.assertEqual(binary["n_out"], N.tobytes())

    def test_json_request_without_the_header_is_unchanged(self):
        x = np.array([1.5, -2.0], dtype=np.float64)
        body, size = build_request([Input("x", "FP64", x, binary=False)],
                                   outputs=[("y", False), ("z", False)])
        self.assertIsNone(size)
        status, hdrs, head, binary = post("half_r", body, None)
        self.assertEqual(status, 200, head)
        self.assertEqual(hdrs["content-type"], "application/json")
        self.assertNotIn("inference-header-content-length", hdrs)
        self.assertEqual(binary, {})
        self.assertEqual([o["data"] for o in head["outputs"]], [[1.5, -2.0], [1.5, -2.0]])

    def test_an_fp16_input_json_cannot_carry_goes_as_binary(self):
        # JSON has no FP16 input form (a 400); h as binary works (f too: JSON
        # has no NaN either).
        finite = [Input("f", "FP32", np.zeros((1, 2), dtype=np.float32), False),
                  Input("n", "INT64", N, False), Input("h", "FP16", H[:2], False),
                  Input("s", "BYTES", S, False), Input("b", "BOOL", B, False)]
        status, _, head, _ = post("binary_echo_py", build_request(finite)[0], None)
        self.assertEqual(status, 400, head)
        self.assertIn("input 'h': datatype FP16 is not supported in JSON", head["error"])
        body, size = build_request(echo_inputs(binary=(True, False, True, False, False)))
        status, _, head, binary = post("binary_echo_py", body, size)
        self.assertEqual(status, 200, head)
        self.check_numbers(head, binary)

    def test_a_large_binary_body_is_parsed_and_encoded_off_the_io_thread(self):
        # Over HttpApi::kOffloadBytes (64 KiB) both ways.
        big = np.arange(40000, dtype=np.float32).reshape(20000, 2) / 7
        inputs = [Input("f", "FP32", big), Input("n", "INT64", N), Input("h", "FP16", H),
                  Input("s", "BYTES", S), Input("b", "BOOL", B)]
        body, size = build_request(inputs)
        self.assertGreater(len(body), 64 * 1024)
        status, _, head, binary = post("binary_echo_py", body, size)
        self.assertEqual(status, 200, head)
        self.assertEqual(binary["f_out"], big.tobytes())

    def test_fp16_and_bf16_outputs_of_an_r_model_as_their_bits(self):
        x = np.array([1.5, -2.0, 65504.0], dtype=np.float64)
        body, size = build_request([Input("x", "FP64", x)])
        status, _, head, binary = post("half_r", body, size)
        self.assertEqual(status, 200, head)
        self.assertEqual(binary["y"], x.astype(np.float16).tobytes())
        # BF16: FP32 rounded to nearest even in the top 16 bits; 65504 -> 65536.
        self.assertEqual(np.frombuffer(binary["z"], dtype="<u2").tolist(),
                         [0x3FC0, 0xC000, 0x4780])

    def test_malformed_binary_bodies_are_400_naming_the_input(self):
        inputs = echo_inputs()
        body, size = build_request(inputs)
        cases = [
            (body + b"x", size, "bytes after the JSON, but the inputs' binary_data_size add up to"),
            (body[:-1], size, "input 'b': parameters.binary_data_size 3 runs past the end"),
            (body, len(body) + 1, "but the body has only"),
            (body, size - 1, "malformed JSON"),
        ]
        # A BYTES element whose length runs past its input's data.
        req = json.loads(body[:size])
        req["inputs"][3]["parameters"]["binary_data_size"] = 4
        text = json.dumps(req).encode()
        s_at = F.nbytes + N.nbytes + H.nbytes
        s_len = len(serialize_bytes([v.encode() for v in S]))
        bad = body[size:size + s_at] + struct.pack("<I", 99) + body[size + s_at + s_len:]
        cases.append((text + bad, len(text), "input 's': binary BYTES data: element 0 declares 99"))
        for data, json_size, fragment in cases:
            with self.subTest(fragment):
                status, _, head, _ = post("binary_echo_py", data, json_size)
                self.assertEqual(status, 400, head)
                self.assertIn(fragment, head["error"])
        # The daemon still serves.
        status, _, head, binary = post("binary_echo_py", body, size)
        self.assertEqual(status, 200, head)

    def test_server_metadata_lists_the_extension(self):
        status, _, body = request("GET", D.base + "/v2")
        self.assertEqual(status, 200)
        self.assertIn("binary_tensor_data", body["extensions"])


if __name__ == "__main__":
    unittest.main()
