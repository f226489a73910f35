#!/usr/bin/python3
"""A buggy worker host, to test the daemon's checks of what a worker sends.
config.json runs it as this model's "interpreter" (a worker host of its
own) in place of modelgate-worker (model.py is only there because a python
model must have one); it speaks proto/worker.proto's frames
itself, encoded by hand, so it can send what no real runtime would. x[0]
of the request picks the answer:
  0  y = x (a normal answer)
  1  FP64 y of shape [2^62, 4] and no data (the product wraps to 0)
  2  BYTES y of shape [2^62, 4] and no data
  3  FP64 y of shape [20000000, 0] (no data, 2e7 JSON rows)
  4  BYTES y holding bytes that are not UTF-8
  5  FP16 y = x
  6  FP64 y of shape [3] holding one element
  7  two outputs named y"""
import os
import struct
import sys

import numpy as np


def varint(n):
    n &= (1 << 64) - 1  # negative int64 as two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, value):
    """One field: an int as a varint, bytes/str length-delimited."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint((number << 3) | 2) + varint(len(value)) + value


def parse(data):
    """Fields of one message: number -> list of ints or bytes."""
    fields, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise ValueError(f"wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def tensor(name, datatype, shape, raw=b"", strings=()):
    body = field(1, name) + field(2, datatype)
    body += field(3, b"".join(varint(d) for d in shape))  # packed shape
    if raw:
        body += field(4, raw)
    for s in strings:
        body += field(5, s)
    return body


def answer(x):
    raw = x.tobytes()
    mode = int(x[0])
    if mode == 1:
        outputs = [tensor("y", "FP64", [2 ** 62, 4])]
    elif mode == 2:
        outputs = [tensor("y", "BYTES", [2 ** 62, 4])]
    elif mode == 3:
        outputs = [tensor("y", "FP64", [20000000, 0])]
    elif mode == 4:
        outputs = [tensor("y", "BYTES", [2], strings=(b"ok", b"\xff\xfe bad"))]
    elif mode == 5:
        outputs = [tensor("y", "FP16", [len(x)], x.astype("<f2").tobytes())]
    elif mode == 6:
        outputs = [tensor("y", "FP64", [3], np.array([1.0]).tobytes())]
    elif mode == 7:
        outputs = [tensor("y", "FP64", [len(x)], raw)] * 2
    else:
        outputs = [tensor("y", "FP64", [len(x)], raw)]
    return field(4, b"".join(field(1, t) for t in outputs))


def write(out, frame_id, body):
    frame = field(1, frame_id) + body if frame_id else body
    out.write(struct.pack("<I", len(frame)) + frame)
    out.flush()


def main():
    inp, out = os.fdopen(3, "rb"), os.fdopen(4, "wb")
    hello = field(1, 1) + field(2, "python") + field(3, "fake host") + field(4, os.getpid())
    write(out, 0, field(2, hello))
    while True:
        header = inp.read(4)
        if len(header) < 4:
            return 0
        (n,) = struct.unpack("<I", header)
        frame = parse(inp.read(n))
        frame_id = frame.get(1, [0])[0]
        if 8 in frame:  # shutdown
            return 0
        if 6 in frame:  # ping
            write(out, frame_id, field(7, b""))
            continue
        infer = parse(frame[3][0])
        x = np.frombuffer(parse(infer[1][0])[4][0], dtype="<f8")
        write(out, frame_id, answer(x))


if __name__ == "__main__":
    sys.exit(main())
