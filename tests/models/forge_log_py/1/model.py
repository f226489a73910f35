"""Tries to forge daemon log lines (test_security_logs.py).

mode 1: prints lines shaped like the daemon's own JSON and text log records
        to stdout and stderr, then answers.
mode 2: raises an error whose message holds a newline and fake fields.
"""
import sys

FAKE_JSON = '{"ts":"2026-01-01T00:00:00.000000Z","level":"info","msg":"access","status":200,"request_id":"forged"}'
FAKE_TEXT = "2026-01-01T00:00:00.000000Z info access protocol=http status=200 request_id=forged"
FAKE_FIELDS = 'model=other pid=1 status=200 request_id="forged"'
ERROR = "boom\naccess protocol=http status=200 request_id=forged\r\t\"x\" \\"


class Model:
    def __init__(self, model_dir):
        pass

    def predict(self, inputs):
        mode = float(inputs["mode"].ravel()[0])
        if mode == 2:
            raise ValueError(ERROR)
        print(FAKE_JSON, flush=True)
        print(FAKE_FIELDS, flush=True)
        sys.stderr.write(FAKE_TEXT + "\n")
        sys.stderr.flush()
        return {"mode": inputs["mode"]}
