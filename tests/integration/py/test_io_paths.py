"""The daemon's thread paths under mixed load (issue 14, "gRPC without the
thread hop"): REST and gRPC callers on two models while one is reloaded, and
gRPC answers that need no worker (rejections, cache hits) given on the gRPC
thread. Every request sent gets exactly one correct answer, counted both by
the callers and by the daemon's modelgate_requests_total.
"""

import threading
import time
import unittest

import grpc

import grpc_predict_v2_pb2_grpc as pb_grpc
from daemon import Daemon, scrape
from lifecycle_support import (Load, Repository, failures, grpc_request, infer, load,
                               model_config, x_input)

RELOADS = 3
REJECTS_MAX = 400  # bound on the rejection caller's requests
REJECTS_MAX_S = 120  # and on its time
CACHE = {"max_entries": 64, "max_bytes": 1 << 20, "ttl_ms": 600000}
CACHED_CODE = 100


def requests_answered(d, model):
    """modelgate_requests_total summed over protocols, codes and versions."""
    return sum(v for (name, labels), v in scrape(d).items()
               if name == "modelgate_requests_total" and ("model", model) in labels)


class IoPathsTest(unittest.TestCase):
    def setUp(self):
        self.repo = Repository()
        self.addCleanup(self.repo.cleanup)
        self.repo.add_model("a", model_config(workers=2), {1: 0})
        self.repo.add_model("b", model_config(response_cache=CACHE), {1: CACHED_CODE})
        self.d = Daemon(self.repo.path, extra_args=("--model-control-mode", "explicit"))
        self.addCleanup(self.d.stop)
        self.d.wait_ready()

    def reject_loop(self, stop, out):
        """gRPC requests answered before any pool: an unknown model, an
        unknown input. Records (what, code name) per request."""
        channel = grpc.insecure_channel(f"127.0.0.1:{self.d.grpc_port}")
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        cases = [("unknown model", grpc_request("nosuch", "", x_input())),
                 ("unknown input", grpc_request("a", "", [
                     {"name": "nope", "datatype": "FP64", "shape": [1], "data": [1.0]}]))]
        deadline = time.monotonic() + REJECTS_MAX_S
        for i in range(REJECTS_MAX):
            if stop.is_set() or time.monotonic() > deadline:
                break
            what, req = cases[i % 2]
            try:
                stub.ModelInfer(req, timeout=60)
                out.append((what, "OK"))
            except grpc.RpcError as e:
                out.append((what, e.code().name))
            time.sleep(0.002)
        channel.close()

    def test_rest_and_grpc_on_two_models_through_reloads_get_one_correct_answer_each(self):
        d = self.d
        rejects, stop = [], threading.Event()
        rejecter = threading.Thread(target=self.reject_loop, args=(stop, rejects), daemon=True)
        extra = {"a": 0, "b": 0}  # requests sent outside the loads
        with Load(d, "a", rest=2, grpc_threads=2) as load_a, \
                Load(d, "b", rest=1, grpc_threads=2) as load_b:
            rejecter.start()
            self.assertTrue(load_a.wait_answers(40))
            self.assertTrue(load_b.wait_answers(40))
            for code in range(1, RELOADS + 1):
                self.repo.write_code("a", 1, code)
                status, body, _, last_switch = load(d, "a")
                self.assertEqual(status, 200, body)
                # Switched when the load returned.
                self.assertEqual(infer(d, "a")[:3], (200, "1", code))
                extra["a"] += 1
                self.assertTrue(load_a.wait_answers(20))
                self.assertTrue(load_b.wait_answers(20))
            stop.set()
            rejecter.join(70)
        self.assertFalse(rejecter.is_alive())
        for model, answers, codes in (("a", load_a.answers, set(range(RELOADS + 1))),
                                      ("b", load_b.answers, {CACHED_CODE})):
            self.assertEqual(failures(answers), [], model)
            self.assertEqual({a.proto for a in answers}, {"rest", "grpc"}, model)
            for a in answers:
                self.assertEqual(a.version, "1", a)
                self.assertIn(a.code, codes, a)
        # Sent after the last switch: the last code only.
        late = [a for a in load_a.answers if a.sent > last_switch]
        self.assertGreater(len(late), 0)
        self.assertEqual({a.code for a in late}, {RELOADS})
        # The rejections: each answered once, with its own code.
        self.assertGreater(len(rejects), 10)
        for what, code in rejects:
            self.assertEqual(code, {"unknown model": "NOT_FOUND",
                                    "unknown input": "INVALID_ARGUMENT"}[what], what)
        # b answered from its cache (gRPC and REST hits alike).
        hits = sum(v for (name, labels), v in scrape(d).items()
                   if name == "modelgate_cache_hits_total" and ("model", "b") in labels)
        self.assertGreater(hits, 0)
        # Exactly one answer per request on the daemon's side too: its count of
        # answered requests is the callers' count (a's includes the rejected
        # unknown inputs; unknown models count under no model of ours).
        unknown_inputs = sum(1 for what, _ in rejects if what == "unknown input")
        self.assertEqual(requests_answered(d, "a"),
                         len(load_a.answers) + extra["a"] + unknown_inputs)
        self.assertEqual(requests_answered(d, "b"), len(load_b.answers) + extra["b"])
        self.assertIsNone(d.proc.poll())


if __name__ == "__main__":
    unittest.main()
