#!/usr/bin/env python3
"""Writes the hand-made files of tests/fuzz/corpus/<fuzzer>/: valid seeds
(seed-*) and reproducers of the crashes issue 10 reports (crash-*).

Deterministic; rerun after changing a case. Protobuf inputs are written in
text format here and encoded by `protoc --encode`, so they stay readable and
follow proto/*.proto. Crash files that libFuzzer finds are copied in by hand
(README, "Fuzzing and sanitizers") and never touched by this script.
Usage: tests/fuzz/make_seeds.py [--protoc PATH]
"""

import argparse
import gzip
import json
import os
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")
DEPTH = 100_000  # the nesting depth: a ~200 KB body
TWO_62 = 1 << 62


def write(fuzzer, name, data):
    os.makedirs(os.path.join(CORPUS, fuzzer), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, fuzzer, name), "wb") as f:
        f.write(data)


def encode(protoc, message, text):
    return subprocess.run(
        [protoc, "-I", os.path.join(ROOT, "proto"), f"--encode={message}",
         os.path.join(ROOT, "proto", "grpc_predict_v2.proto"),
         os.path.join(ROOT, "proto", "worker.proto")],
        input=text.encode(), stdout=subprocess.PIPE, check=True).stdout


def frames(protoc, *texts):
    out = b""
    for t in texts:
        body = encode(protoc, "modelgate.worker.v1.Frame", t)
        out += struct.pack("<I", len(body)) + body
    return out


def pb_bytes(raw):
    """A protobuf text-format bytes literal."""
    return '"' + "".join(f"\\x{b:02x}" for b in raw) + '"'


def rest_v2():
    seeds = {
        "seed-mtcars": {"id": "r1", "inputs": [
            {"name": "wt", "datatype": "FP64", "shape": [2], "data": [2.62, 3.19]},
            {"name": "hp", "datatype": "FP64", "shape": [2], "data": [110, 95]}]},
        "seed-iris-nested": {"id": "iris-1", "parameters": {"timeout": 1500000}, "inputs": [
            {"name": "features", "datatype": "FP64", "shape": [2, 4],
             "data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}],
            "outputs": [{"name": "features"}]},
        "seed-mixed": {"inputs": [
            {"name": "s", "datatype": "BYTES", "shape": [2], "data": ["a\u00e9\n", ""]},
            {"name": "b", "datatype": "BOOL", "shape": [1, 2], "data": [[True, False]]},
            {"name": "n", "datatype": "INT64", "shape": [1, 1, 2],
             "data": [-9223372036854775808, 9223372036854775807]}]},
        "seed-x-uint8": {"inputs": [
            {"name": "x", "datatype": "UINT8", "shape": [1, 3], "data": [0, 128, 255]}]},
        "seed-x-fp32": {"inputs": [
            {"name": "x", "datatype": "FP32", "shape": [2, 1], "data": [1e38, -1.5e-45]}]},
        "seed-x-uint64": {"inputs": [
            {"name": "x", "datatype": "UINT64", "shape": [1, 1], "data": [18446744073709551615]}]},
        "seed-x-int16-floats": {"inputs": [
            {"name": "x", "datatype": "INT16", "shape": [1, 2], "data": [3.0, -32768]}]},
        "seed-x-bytes": {"id": "b", "inputs": [
            {"name": "x", "datatype": "BYTES", "shape": [1, 1], "data": ["\u0000\u2028\"\\"]}]},
    }
    for name, body in seeds.items():
        write("rest_v2", name + ".json", json.dumps(body))
    # Issue 10: 100 000-deep "data" and "shape" (SIGSEGV, stack overflow).
    nested = "[" * DEPTH + "1" + "]" * DEPTH
    write("rest_v2", "crash-deep-nesting-data.json",
          '{"inputs":[{"name":"x","datatype":"FP64","shape":[1,1],"data":' + nested + "}]}")
    write("rest_v2", "crash-deep-nesting-shape.json",
          '{"inputs":[{"name":"x","datatype":"FP64","shape":' + nested + ',"data":[1]}]}')
    # Issue 10: client mistakes that reach the model (and come back 500).
    x = {"name": "x", "datatype": "FP64"}
    write("rest_v2", "crash-shape-2p62x4-no-data.json",
          json.dumps({"inputs": [dict(x, shape=[TWO_62, 4], data=[])]}))
    write("rest_v2", "crash-shape-0x4.json", json.dumps({"inputs": [dict(x, shape=[0, 4], data=[])]}))
    # Issue 10: timeouts that wrap the deadline into the past.
    for name, us in (("int64-max", 2**63 - 1), ("1e16us", 10**16)):
        write("rest_v2", f"crash-timeout-{name}.json", json.dumps(
            {"parameters": {"timeout": us}, "inputs": [dict(x, shape=[1, 1], data=[1])]}))
    # Issue 10: a newline in a body id forges a log line.
    write("rest_v2", "crash-id-newline.json",
          json.dumps({"id": "a\nb", "inputs": [dict(x, shape=[1, 1], data=[1])]}))


def rest_v1():
    seeds = {
        "seed-iris-rows": {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
        "seed-mtcars-objects": {"instances": [{"wt": 2.62, "hp": 110}, {"hp": 95, "wt": 3.19}]},
        "seed-mtcars-arrays": {"instances": [[2.62, 110], [3.19, 95]]},
        "seed-grid": {"instances": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]},
        "seed-mixed": {"instances": [{"s": "a\u00e9", "b": [True, False], "n": [1, 255]},
                                     {"s": "", "b": [False, False], "n": [0, 7]}]},
        "seed-scalar-rows": {"instances": [1, 2, 3]},
        # TF-Serving's columnar form: named tensors, or one bare tensor.
        "seed-columnar-named": {"inputs": {"wt": [2.62, 3.19], "hp": [110, 95]}},
        "seed-columnar-bare": {"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]},
    }
    for name, body in seeds.items():
        write("rest_v1", name + ".json", json.dumps(body))
    # Issue 10: 100 000-deep "instances" (SIGSEGV, stack overflow).
    write("rest_v1", "crash-deep-nesting-instances.json",
          '{"instances":' + "[" * DEPTH + "1" + "]" * DEPTH + "}")
    # Issue 10: an empty batch reaches the model.
    write("rest_v1", "crash-empty-instances.json", '{"instances": []}')
    # Issue 10: rows of 5 and 3 values for a [-1, 4] input, re-cut into two
    # rows of 4; ragged columns of a data-frame model.
    write("rest_v1", "crash-ragged-rows-5-and-3.json",
          json.dumps({"instances": [[1, 2, 3, 4, 5], [6, 7, 8]]}))
    write("rest_v1", "crash-ragged-columns.json",
          json.dumps({"instances": [{"wt": [1, 2], "hp": 1}, {"wt": [], "hp": 2}]}))


def grpc_request(protoc):
    iris = ('inputs { name: "features" datatype: "FP64" shape: [1, 4] '
            'contents { fp64_contents: [5.1, 3.5, 1.4, 0.2] } }')
    seeds = {
        "seed-iris-typed": f'model_name: "iris_species" id: "r1" {iris} '
                           'outputs { name: "features" }',
        "seed-mtcars-typed": 'model_name: "mtcars_am" model_version: "1" '
                             'parameters { key: "priority" value { int64_param: 1 } } '
                             'inputs { name: "wt" datatype: "FP64" shape: [2] '
                             'contents { fp64_contents: [2.62, 3.19] } } '
                             'inputs { name: "hp" datatype: "FP64" shape: [2] '
                             'contents { fp64_contents: [110, 95] } }',
        "seed-x-fp32-raw": 'model_name: "x_FP32" inputs { name: "x" datatype: "FP32" '
                           f'shape: [1, 2] }} raw_input_contents: {pb_bytes(struct.pack("<2f", 1.0, 2.0))}',
        "seed-x-bytes-raw": 'model_name: "x_BYTES" inputs { name: "x" datatype: "BYTES" '
                            'shape: [1, 2] } raw_input_contents: '
                            + pb_bytes(struct.pack("<I", 1) + b"a" + struct.pack("<I", 2) + b"bc"),
        "seed-x-fp16-raw": 'inputs { name: "x" datatype: "FP16" shape: [2, 1] } '
                           'raw_input_contents: "\\x00\\x3c\\x00\\xc0"',
        "seed-mixed-typed": 'inputs { name: "s" datatype: "BYTES" shape: [1] '
                            'contents { bytes_contents: "\\xff\\x00" } } '
                            'inputs { name: "b" datatype: "BOOL" shape: [1, 2] '
                            'contents { bool_contents: [true, false] } } '
                            'inputs { name: "n" datatype: "INT64" shape: [1, 1, 1] '
                            'contents { int64_contents: -1 } }',
        "seed-x-int8-typed": 'inputs { name: "x" datatype: "INT8" shape: [1, 2] '
                             'contents { int_contents: [-128, 127] } }',
    }
    for name, text in seeds.items():
        write("grpc_request", name + ".pb", encode(protoc, "inference.ModelInferRequest", text))
    # Issue 10: an id that is not a legal metadata value aborts the daemon
    # when it is echoed as x-request-id trailing metadata.
    for name, id_text in (("newline", "x\\ny"), ("tab", "a\\tb"), ("utf8", "\\303\\251")):
        write("grpc_request", f"crash-id-{name}.pb",
              encode(protoc, "inference.ModelInferRequest",
                     f'model_name: "iris_species" id: "{id_text}" {iris}'))
    # Issue 10: shapes that reach the model: [2^62, 4] with no data (the
    # element count wraps to 0) and [0, 4].
    for name, shape in (("2p62x4-no-data", f"[{TWO_62}, 4]"), ("0x4", "[0, 4]")):
        write("grpc_request", f"crash-shape-{name}.pb",
              encode(protoc, "inference.ModelInferRequest",
                     f'inputs {{ name: "x" datatype: "FP64" shape: {shape} contents {{ }} }}'))


def worker_frame(protoc):
    def result(outputs):
        return "id: 7 result { " + " ".join(f"outputs {{ {o} }}" for o in outputs) + " }"

    iris = result([
        'name: "label" datatype: "INT64" shape: [2] raw: ' + pb_bytes(struct.pack("<2q", 0, 2)),
        'name: "probabilities" datatype: "FP64" shape: [2, 3] raw: '
        + pb_bytes(struct.pack("<6d", 0.9, 0.1, 0.0, 0.0, 0.2, 0.8))])
    seeds = {
        "seed-result-iris": frames(protoc, iris),
        "seed-hello-result-pong": frames(
            protoc,
            'hello { protocol_version: 1 runtime: "python" runtime_version: "3.11.2" pid: 42 '
            'outputs { name: "label" datatype: "INT64" shape: [-1] } }',
            iris, "id: 8 pong {}"),
        "seed-result-mtcars-prob": frames(protoc, result([
            'name: "prob" datatype: "FP64" shape: [3] raw: '
            + pb_bytes(struct.pack("<3d", 0.25, float("nan"), float("inf")))])),
        "seed-result-describe": frames(protoc, result([
            'name: "n" datatype: "FP64" shape: [1] raw: ' + pb_bytes(struct.pack("<d", 32)),
            'name: "mean" datatype: "INT32" shape: [1] raw: ' + pb_bytes(struct.pack("<i", 3))])),
        "seed-result-bytes-bool": frames(protoc, result([
            'name: "s" datatype: "BYTES" shape: [2, 1] strings: "a" strings: "\\"q\\""',
            'name: "b" datatype: "BOOL" shape: [2, 1] raw: "\\x01\\x00"'])),
        "seed-error": frames(protoc, 'id: 9 error { message: "bad input" traceback: "line 1" '
                                     'invalid_input: true }'),
    }
    for name, data in seeds.items():
        write("worker_frame", name + ".bin", data)
    # Issue 10: a declared [2^62, 4] output with no data (the element count
    # wraps to 0): SIGSEGV in the V1 encoder.
    for dtype in ("FP64", "BYTES"):
        write("worker_frame", f"crash-shape-2p62x4-{dtype.lower()}.bin",
              frames(protoc, result([f'name: "y" datatype: "{dtype}" shape: [{TWO_62}, 4]'])))
    # Issue 10: [20000000, 0] makes the V1 encoder build 2e7 empty rows.
    write("worker_frame", "crash-shape-20M-rows-of-0.bin",
          frames(protoc, result(['name: "y" datatype: "FP64" shape: [20000000, 0]'])))
    # The same with the zero in an inner dim: [1, 50000000, 0] makes the V1
    # encoder nest 5e7 empty arrays in its one row (libFuzzer found the kind).
    write("worker_frame", "crash-shape-inner-zero-dim-1x50Mx0.bin",
          frames(protoc, result(['name: "y" datatype: "FP64" shape: [1, 50000000, 0]'])))
    # Issue 10: non-UTF-8 BYTES copied raw into the JSON answer.
    write("worker_frame", "crash-bytes-not-utf8.bin",
          frames(protoc, result(['name: "y" datatype: "BYTES" shape: [1] strings: "\\xff\\xfe"'])))
    # Found here (not in issue 10): a BOOL byte other than 0/1 is loaded as a
    # bool by the encoders (undefined behaviour); NaN (R's NA) in an FP64
    # output that the config declares INT32 is cast to int (undefined).
    write("worker_frame", "crash-bool-byte-not-0-or-1.bin",
          frames(protoc, result(['name: "y" datatype: "BOOL" shape: [2] raw: "\\x02\\xff"'])))
    write("worker_frame", "crash-cast-nan-to-int32.bin", frames(protoc, result([
        'name: "n" datatype: "FP64" shape: [1] raw: ' + pb_bytes(struct.pack("<d", float("nan"))),
        'name: "mean" datatype: "FP64" shape: [1] raw: ' + pb_bytes(struct.pack("<d", 1.0))])))
    # An FP16 output: V2 JSON answers "data": [] for a shape of 2 elements.
    write("worker_frame", "crash-fp16-output-empty-json-data.bin",
          frames(protoc, result(['name: "y" datatype: "FP16" shape: [2] raw: "\\x00\\x3c\\x00\\xc0"'])))


def content_coding():
    body = json.dumps({"inputs": [{"name": "x", "datatype": "FP64", "shape": [2],
                                   "data": [1.5, 2.5]}]}).encode()
    write("content_coding", "seed-gzip.bin", gzip.compress(body, mtime=0))
    write("content_coding", "seed-zlib.bin", zlib.compress(body))
    raw = zlib.compressobj(wbits=-15)
    write("content_coding", "seed-raw-deflate.bin", raw.compress(body) + raw.flush())
    # A bomb: 4 MiB of zeros, far past the harness's limit.
    write("content_coding", "seed-bomb.bin", gzip.compress(b"\0" * (4 << 20), mtime=0))
    write("content_coding", "seed-accept-encoding.txt", "gzip;q=0.5, deflate;q=0.9, *;q=0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--protoc", default="protoc")
    args = ap.parse_args()
    rest_v2()
    rest_v1()
    content_coding()
    grpc_request(args.protoc)
    worker_frame(args.protoc)


if __name__ == "__main__":
    main()
