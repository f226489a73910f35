"""No client or model can forge a daemon log line or field (issue 10).

The real daemon runs once with --log-format json and once with text. Clients
send request ids and targets shaped like log syntax; a model (forge_log_py)
raises an error holding a newline and fake fields, and prints lines shaped
like the daemon's own JSON and text records. Every line of the log must then
parse as exactly one record, and each scenario must leave exactly the
records expected, with the hostile text only ever inside its own value.
"""

import json
import re
import socket
import time
import unittest

import grpc
import numpy as np

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, make_repository, request

MODEL = "forge_log_py"
# What forge_log_py/1/model.py raises and prints (kept equal by hand).
ERROR = "boom\naccess protocol=http status=200 request_id=forged\r\t\"x\" \\"
FAKE_LINES = {
    ("stdout", '{"ts":"2026-01-01T00:00:00.000000Z","level":"info","msg":"access",'
               '"status":200,"request_id":"forged"}'),
    ("stdout", 'model=other pid=1 status=200 request_id="forged"'),
    ("stderr", "2026-01-01T00:00:00.000000Z info access protocol=http status=200 request_id=forged"),
}
FORGED_ID = "abc status=200 target=/v2/health/live"
GRPC_FORGED_ID = "abc code=OK model=other"
RAW_TARGET = b'/v2/models/sec"q"=1\\x\xff\xfe'
ACCESS_HTTP_KEYS = {"ts", "level", "msg", "protocol", "method", "target", "status",
                    "duration_us", "bytes", "request_id"}
ACCESS_GRPC_KEYS = {"ts", "level", "msg", "protocol", "rpc", "model", "version", "code",
                    "duration_us", "bytes_in", "request_id"}
WAIT_SECONDS = 10  # bound on waiting for worker output to reach the log

# ---- a strict reader of the text format ------------------------------------
TEXT_HEAD = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) "
                       r"(trace|debug|info|warning|error|critical) ")
TEXT_KEY = re.compile(r" ([a-z0-9_]+)=")


def read_quoted(s, i):
    """(value, index after the closing quote) of the quoted value at s[i]."""
    assert s[i] == '"', s
    out = bytearray()
    i += 1
    while s[i] != '"':
        if s[i] != "\\":
            out += s[i].encode()
            i += 1
            continue
        e = s[i + 1]
        if e in "nrt":
            out += {"n": b"\n", "r": b"\r", "t": b"\t"}[e]
            i += 2
        elif e in '"\\':
            out += e.encode()
            i += 2
        elif e == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif e == "u":
            out += chr(int(s[i + 2:i + 6], 16)).encode()
            i += 6
        else:
            raise ValueError(f"unknown escape \\{e} in {s!r}")
    return out.decode("utf-8", "surrogateescape"), i + 1


def parse_text_line(line):
    """{ts, level, msg, field...} of one text line; raises unless well formed."""
    m = TEXT_HEAD.match(line)
    if not m:
        raise ValueError(f"not a text log line: {line!r}")
    rec = {"ts": m.group(1), "level": m.group(2)}
    rest = line[m.end():]
    if rest.startswith('"'):  # free text of a plain spdlog call: one quoted value
        rec["msg"], i = read_quoted(rest, 0)
    else:
        k = TEXT_KEY.search(rest)
        i = k.start() if k else len(rest)
        rec["msg"] = rest[:i]
    while i < len(rest):
        k = TEXT_KEY.match(rest, i)
        if not k or k.group(1) in rec:
            raise ValueError(f"bad or repeated field at {i} in {line!r}")
        i = k.end()
        if rest[i:i + 1] == '"':
            value, i = read_quoted(rest, i)
        else:
            end = rest.find(" ", i)
            end = len(rest) if end < 0 else end
            value = rest[i:end]
            if not value or set(value) & set('"=\\'):
                raise ValueError(f"bad bare value {value!r} in {line!r}")
            i = end
        rec[k.group(1)] = value
    return rec


def parse_log(text, log_format):
    """One record per line; raises on any line that is not a whole record."""
    if log_format == "json":
        return [json.loads(line) for line in text.splitlines()]
    return [parse_text_line(line) for line in text.splitlines()]


# ---- the scenarios, run once per format ------------------------------------
class _ForgedLogs:
    LOG_FORMAT = None

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(make_repository(examples=(), test_models=(MODEL,)),
                       log_format=cls.LOG_FORMAT)
        try:
            cls.d.wait_ready()
            cls.statuses = cls._send_everything()
            cls._wait_for_worker_output()
            cls.worker_pids = cls.d.worker_pids(MODEL)  # from the metric, before the stop
        finally:
            cls.exit_code = cls.d.stop()
        cls.log_text = cls.d.log()
        cls.records = parse_log(cls.log_text, cls.LOG_FORMAT)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()

    @classmethod
    def _send_everything(cls):
        base, infer = cls.d.base, cls.d.base + f"/v2/models/{MODEL}/infer"

        def body(mode, **extra):
            return {**extra, "inputs": [{"name": "mode", "datatype": "FP64", "shape": [1],
                                         "data": [mode]}]}
        s = {}
        s["body_id"] = request("POST", infer, body(2, id="a\nb"),
                               headers={"x-request-id": "sec-body-id"})[0]
        s["header_id"] = request("GET", base + "/v2/models/sec_nope",
                                 headers={"x-request-id": FORGED_ID})[0]
        s["model_error"] = request("POST", infer, body(2),
                                   headers={"x-request-id": "sec-model-err"})[0]
        s["model_print"] = request("POST", infer, body(1),
                                   headers={"x-request-id": "sec-print"})[0]
        with socket.create_connection(("127.0.0.1", cls.d.http_port), timeout=10) as sock:
            sock.sendall(b"GET " + RAW_TARGET + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s["raw_target"] = int(sock.recv(4096).split(b" ", 2)[1])
        stub = pb_grpc.GRPCInferenceServiceStub(
            grpc.insecure_channel(f"127.0.0.1:{cls.d.grpc_port}"))
        r = pb.ModelInferRequest(model_name="sec_nope_grpc", id=GRPC_FORGED_ID)
        r.inputs.add(name="x", datatype="FP64", shape=[1])
        r.raw_input_contents.append(np.array([1.0]).tobytes())
        try:
            stub.ModelInfer(r, timeout=10)
            s["grpc_id"] = "OK"
        except grpc.RpcError as e:
            s["grpc_id"] = e.code().name
        return s

    @classmethod
    def _wait_for_worker_output(cls):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            text = cls.d.log()
            records = parse_log(text[:text.rfind("\n") + 1], cls.LOG_FORMAT)  # whole lines
            if sum(1 for r in records
                   if r["msg"] == "worker output" and "forged" in r["line"]) >= len(FAKE_LINES):
                return
            time.sleep(0.1)

    def where(self, **want):
        return [r for r in self.records if all(r.get(k) == v for k, v in want.items())]

    def number(self, v):
        """A numeric field: a JSON number, or its digits in text."""
        if self.LOG_FORMAT == "json":
            self.assertIsInstance(v, int)
            return v
        self.assertRegex(v, r"^-?\d+$")
        return int(v)

    def assert_access(self, rec, status):
        self.assertEqual(set(rec), ACCESS_HTTP_KEYS, rec)
        self.assertEqual(self.number(rec["status"]), status, rec)
        self.number(rec["duration_us"])
        self.number(rec["bytes"])

    # -- every line -------------------------------------------------------
    def test_every_line_is_one_whole_record_and_the_daemon_exits_cleanly(self):
        self.assertEqual(self.exit_code, 0, self.log_text[-3000:])
        self.assertGreater(len(self.records), 10)
        self.assertEqual(len(self.records), len(self.log_text.splitlines()))
        for rec in self.records:
            self.assertTrue({"ts", "level", "msg"} <= rec.keys(), rec)

    def test_no_hostile_text_escapes_its_value(self):
        # Event names are literals in the daemon's code: none may carry a
        # fragment of the hostile text sent by the client or the model.
        events = {r["msg"] for r in self.records}
        self.assertIn("access", events)
        for event in events:
            for fragment in ("forged", "boom", "status=", "model=other", "{", "\n", "\r"):
                self.assertNotIn(fragment, event, events)
        # The one worker's pid, from the modelgate_worker_pid metric: every
        # pid field in the log is that one, never a value a client forged.
        self.assertEqual(len(self.worker_pids), 1, self.worker_pids)
        pids = {r["pid"] for r in self.where(msg="worker starting:")}
        self.assertEqual({self.number(p) for p in pids}, set(self.worker_pids))
        for rec in self.records:
            self.assertNotEqual(rec.get("request_id"), "forged", rec)
            self.assertNotEqual(rec.get("request_id"), "b", rec)
            self.assertIn(rec.get("model"), (None, MODEL, "sec_nope_grpc"), rec)
            if "pid" in rec:
                self.assertIn(rec["pid"], pids, rec)
            if rec["msg"] == "access" and rec["protocol"] == "http":
                self.assertNotEqual(rec["target"], "/v2/health/live", rec)
                self.assertEqual(set(rec), ACCESS_HTTP_KEYS, rec)

    # -- clients -----------------------------------------------------------
    def test_body_id_with_a_newline(self):
        status = self.statuses["body_id"]
        self.assertIn(status, (400, 500))  # 400 once request ids are validated
        access = self.where(msg="access", request_id="sec-body-id")
        self.assertEqual(len(access), 1, access)
        self.assert_access(access[0], status)
        self.assertEqual(access[0]["target"], f"/v2/models/{MODEL}/infer")
        errors = self.where(msg="model error", request_id="a\nb")
        self.assertEqual(len(errors), 1 if status == 500 else 0, errors)

    def test_header_id_shaped_like_fields(self):
        status = self.statuses["header_id"]
        self.assertIn(status, (400, 404))  # 400 once request ids are validated
        access = self.where(msg="access", target="/v2/models/sec_nope")
        self.assertEqual(len(access), 1, access)
        self.assert_access(access[0], status)
        if status == 404:
            self.assertEqual(access[0]["request_id"], FORGED_ID)
        else:
            self.assertNotIn("=", access[0]["request_id"])

    def test_raw_target_with_quotes_backslash_and_invalid_utf8(self):
        status = self.statuses["raw_target"]
        self.assertEqual(status, 404)
        want = RAW_TARGET.decode("utf-8", "replace" if self.LOG_FORMAT == "json" else
                                 "surrogateescape")
        access = self.where(msg="access", target=want)
        self.assertEqual(len(access), 1, [r for r in self.records if r["msg"] == "access"])
        self.assert_access(access[0], 404)

    def test_grpc_id_shaped_like_fields(self):
        code = self.statuses["grpc_id"]
        self.assertIn(code, ("NOT_FOUND", "INVALID_ARGUMENT"))
        access = self.where(msg="access", protocol="grpc")
        self.assertEqual(len(access), 1, access)
        rec = access[0]
        self.assertEqual(set(rec), ACCESS_GRPC_KEYS, rec)
        self.assertEqual((rec["model"], rec["code"]), ("sec_nope_grpc", code), rec)
        if code == "NOT_FOUND":
            self.assertEqual(rec["request_id"], GRPC_FORGED_ID)

    # -- models ------------------------------------------------------------
    def test_model_error_with_a_newline_and_fake_fields(self):
        self.assertEqual(self.statuses["model_error"], 500)
        errors = self.where(msg="model error", request_id="sec-model-err")
        self.assertEqual(len(errors), 1, errors)
        rec = errors[0]
        self.assertEqual(rec["level"], "warning")
        self.assertEqual(rec["model"], MODEL)
        self.assertEqual(rec["error"], "ValueError: " + ERROR)
        self.assertTrue(rec["traceback"].startswith("Traceback (most recent call last):"), rec)
        self.assertTrue(rec["traceback"].endswith("ValueError: " + ERROR + "\n"), rec)
        self.assertNotIn("status", rec)
        access = self.where(msg="access", request_id="sec-model-err")
        self.assertEqual(len(access), 1, access)
        self.assert_access(access[0], 500)

    def test_model_output_shaped_like_log_records(self):
        self.assertEqual(self.statuses["model_print"], 200)
        printed = {(r["stream"], r["line"]) for r in self.where(msg="worker output", model=MODEL)
                   if "forged" in r["line"]}
        self.assertEqual(printed, FAKE_LINES)
        for rec in self.where(msg="worker output"):
            # request_id: the request the worker was handling, the model's
            # own text never sets it (the forged lines name "forged").
            self.assertEqual(set(rec) - {"request_id"}, {"ts", "level", "msg", "model", "version",
                                                         "pid", "stream", "line"}, rec)
            if "forged" in rec["line"]:
                self.assertEqual(rec.get("request_id"), "sec-print", rec)
        access = self.where(msg="access", request_id="sec-print")
        self.assertEqual(len(access), 1, access)
        self.assert_access(access[0], 200)


class JsonLogTest(_ForgedLogs, unittest.TestCase):
    LOG_FORMAT = "json"


class TextLogTest(_ForgedLogs, unittest.TestCase):
    LOG_FORMAT = "text"


if __name__ == "__main__":
    unittest.main()
