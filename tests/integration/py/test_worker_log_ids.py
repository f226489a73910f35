"""Every line a model prints while handling a request carries that request's
id in the daemon's log, in JSON and in text format: R (cat, message, a last
line without newline) and Python (print, logging, C's puts, a last line
without newline), each also 56 KB of long lines (more than one read of the
pipe), several concurrent requests on 2 workers each, the
Python model batching (its lines carry exactly the ids of the batch).
Lines of the load carry none, lines of the warm-up "warmup-0". And with the
same batching model: a batch the model fails on one bad row is retried one
request at a time, so only that request gets 400."""

import json
import re
import threading
import unittest

from daemon import Daemon, make_repository, request, wait_for

MODELS = ("logid_r", "logid_py")
REQUESTS = 8  # per model, all at once: more than the 2 workers can take
WAIT_SECONDS = 30  # bound on the log catching up with the answers
# The lines each model writes once per call ("logid <r|py> <kind> <k...>").
LONG = tuple(f"long{i}" for i in range(1, 8))
KINDS = {"logid_r": ("begin", "stderr", "unfinished") + LONG,
         "logid_py": ("begin", "stderr", "native", "unfinished") + LONG}
TEXT_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def text_record(line):
    """The fields of one text-format record (values unquoted; these tests
    write only plain ASCII, so no escape other than \\" and \\\\ occurs)."""
    m = re.match(r"^\S+ \w+ worker output (model=.*)$", line)
    if not m:
        return None
    rec = {"msg": "worker output"}
    for key, value in TEXT_FIELD.findall(m.group(1)):
        if value.startswith('"'):
            value = re.sub(r'\\(.)', r'\1', value[1:-1])
        rec[key] = value
    return rec


class WorkerLogIdsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Both daemons load at once.
        cls.daemons = {fmt: Daemon(make_repository(examples=(), test_models=MODELS), log_format=fmt)
                       for fmt in ("json", "text")}
        for d in cls.daemons.values():
            d.wait_ready()

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons.values():
            d.cleanup()

    def records(self, fmt):
        """The daemon's "worker output" records so far, as dicts."""
        text = self.daemons[fmt].log()
        lines = text[:text.rfind("\n") + 1].splitlines()
        if fmt == "json":
            recs = [json.loads(line) for line in lines]
        else:
            recs = [r for r in map(text_record, lines) if r]
        return [r for r in recs if r.get("msg") == "worker output"]

    def send_concurrently(self, d, model, fmt):
        """REQUESTS requests at once, ids from the header or the body: {k: id}."""
        ids = {k: f"{fmt}-{model}-{k}" for k in range(REQUESTS)}
        results = {}
        barrier = threading.Barrier(REQUESTS)

        def one(k):
            body = {"inputs": [{"name": "k", "datatype": "FP64", "shape": [1], "data": [k]}]}
            headers = {}
            if k % 2:
                body["id"] = ids[k]
            else:
                headers["x-request-id"] = ids[k]
            barrier.wait(timeout=30)
            results[k] = request("POST", d.base + f"/v2/models/{model}/infer", body, headers)

        threads = [threading.Thread(target=one, args=(k,)) for k in range(REQUESTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        self.assertFalse(any(t.is_alive() for t in threads), "a request hung")
        for k, (status, _, body) in sorted(results.items()):
            self.assertEqual(status, 200, body)
            self.assertEqual(body["id"], ids[k])
            self.assertEqual(body["outputs"][0]["data"], [k])
        return ids

    def check(self, fmt):
        d = self.daemons[fmt]
        for model in MODELS:
            self.assertTrue(d.wait_workers(model, "ready", 2), d.log()[-3000:])
        sent = {model: self.send_concurrently(d, model, fmt) for model in MODELS}

        def request_lines(model):
            """{(kind, k): request_id field} of the model's lines about requests."""
            out = {}
            prefix = "logid " + model.split("_")[1] + " "
            for r in self.records(fmt):
                if r.get("model") != model or not r["line"].startswith(prefix):
                    continue
                words = r["line"][len(prefix):].split(" | ")[0].split(" ")
                if words[0] == "loading":
                    continue
                for k in words[1:]:
                    out.setdefault((words[0], int(k)), []).append((r.get("request_id"), words[1:]))
            return out

        def complete():
            for model in MODELS:
                lines = request_lines(model)
                if not all((kind, k) in lines for kind in KINDS[model] for k in range(REQUESTS)):
                    return False
            return True
        wait_for(complete, timeout=WAIT_SECONDS)
        batches = 0
        for model in MODELS:
            lines = request_lines(model)
            for kind in KINDS[model]:
                for k in range(REQUESTS):
                    with self.subTest(fmt=fmt, model=model, kind=kind, k=k):
                        self.assertIn((kind, k), lines, "line never logged")
                        [(rid, ks)] = lines[(kind, k)]
                        # Exactly the ids of the requests of that call, in its order.
                        self.assertEqual(rid, " ".join(sent[model][int(x)] for x in ks))
                        batches += len(ks) > 1
                # The warm-up's lines carry its own name.
                with self.subTest(fmt=fmt, model=model, kind=kind, k="warm-up"):
                    warm = lines.get((kind, -1), [])
                    self.assertEqual({rid for rid, _ in warm}, {"warmup-0"}, warm)
            # The load's line carries no request id.
            loading = [r for r in self.records(fmt) if r.get("model") == model
                       and r["line"] == f"logid {model.split('_')[1]} loading"]
            self.assertEqual(len(loading), 2, loading)  # one per worker
            self.assertTrue(all("request_id" not in r for r in loading), loading)
        # The Python model batches with max_queue_delay_us 0: 8 requests at
        # once on 2 workers busy 100 ms each cannot all go alone.
        self.assertGreater(batches, 0, "no batch formed")

    def test_a_bad_row_fails_only_its_own_request_in_a_batch(self):
        """Both workers held, six requests queue and go in one call; one of
        them is invalid, so the model fails the call: each is retried alone
        and only the bad one gets 400."""
        d = self.daemons["json"]
        self.assertTrue(d.wait_workers("logid_py", "ready", 2))
        results = {}

        def send(k, rid):
            body = {"id": rid, "inputs": [{"name": "k", "datatype": "FP64", "shape": [1],
                                           "data": [k]}]}
            results[rid] = request("POST", d.base + "/v2/models/logid_py/infer", body)

        blockers = [threading.Thread(target=send, args=(200 + i, f"hold-{i}")) for i in range(2)]
        for t in blockers:
            t.start()
        self.assertTrue(d.wait_workers("logid_py", "busy", 2), "the blockers never ran")
        ks = {"q-0": 100, "q-1": 101, "q-bad": 1000, "q-3": 103, "q-4": 104, "q-5": 105}
        queued = [threading.Thread(target=send, args=(k, rid)) for rid, k in ks.items()]
        for t in queued:
            t.start()
        for t in blockers + queued:
            t.join(timeout=60)
        self.assertFalse(any(t.is_alive() for t in blockers + queued), "a request hung")
        for rid, k in ks.items():
            status, _, body = results[rid]
            if rid == "q-bad":
                self.assertEqual(status, 400, body)
                self.assertIn("k must be below 1000", body["error"])
            else:
                self.assertEqual((status, body["outputs"][0]["data"]), (200, [k]), body)
        def retried():
            return [r for r in self.records_of("json", "batch failed in the model; retrying its "
                                                      "requests one at a time")
                    if "q-bad" in r["request_id"].split(" ")]
        # The log is written by its own thread: poll it (bounded).
        self.assertTrue(wait_for(retried, timeout=WAIT_SECONDS), "no retry logged")
        self.assertGreater(len(retried()[0]["request_id"].split(" ")), 1)  # it was a batch

    def records_of(self, fmt, msg):
        text = self.daemons[fmt].log()
        return [r for r in map(json.loads, text[:text.rfind("\n") + 1].splitlines())
                if r.get("msg") == msg]

    def test_json_log_lines_carry_the_request_ids(self):
        self.check("json")

    def test_text_log_lines_carry_the_request_ids(self):
        self.check("text")


if __name__ == "__main__":
    unittest.main()
