"""`make bench`: reload under load. Reloads the R example (mtcars_am) and the
Python example (iris_species) BENCH_RELOADS times each (default 10) while
REST and gRPC clients load both models without pause, and prints the
requests sent, the failed ones (must be 0) and the time from each load call
to its 200 (the switch to the new workers), p50 and max per model.

Each reload appends a comment to the model's source on a private copy of the
example, so every load really starts, warms up and switches to new workers.
Runs the daemon with --model-control-mode explicit on free loopback ports;
every load run is bounded (Load.MAX_SECONDS, Load.MAX_REQUESTS). Exits 1 if
a request or a load failed.

    benchmarks/reload_under_load.py BUILD_DIR
"""

import json
import os
import shutil
import statistics
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
RELOADS = int(os.environ.get("BENCH_RELOADS", "10"))

# The integration tests' daemon harness and load generator.
os.environ.setdefault("MODELGATE_SOURCE_DIR", ROOT)
os.environ.setdefault("MODELGATE_BINARY", os.path.join(BUILD, "modelgate"))
sys.path[:0] = [os.path.join(ROOT, "tests", "integration", "py"), os.path.join(BUILD, "python_stubs")]
from daemon import Daemon  # noqa: E402
from lifecycle_support import Load, failures, load  # noqa: E402

MODELS = {  # name: (runtime, source file, one 1-row request's V2 inputs)
    "mtcars_am": ("R", "model.R", [{"name": "wt", "datatype": "FP64", "shape": [1], "data": [2.62]},
                                   {"name": "hp", "datatype": "FP64", "shape": [1], "data": [110.0]}]),
    "iris_species": ("Python", "model.py", [{"name": "features", "datatype": "FP64",
                                             "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]),
}


def repository():
    """A world-readable copy of the two examples, each warming up on its
    bench request (a root daemon's workers run as an unprivileged user)."""
    parent = tempfile.mkdtemp(prefix="modelgate-reload-bench-")
    repo = os.path.join(parent, "repo")
    for name, (_, _, inputs) in MODELS.items():
        shutil.copytree(os.path.join(ROOT, "examples", "models", name), os.path.join(repo, name))
        path = os.path.join(repo, name, "config.json")
        with open(path) as f:
            config = json.load(f)
        config["warmup"] = [{"inputs": inputs}]
        with open(path, "w") as f:
            json.dump(config, f, indent=1)
    for d, dirs, files in os.walk(parent):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return parent, repo


def touch_source(repo, name, source, n):
    """Changes the model's source (a comment), so its fingerprint changes."""
    path = os.path.join(repo, name, "1", source)
    with open(path) as f:
        text = f.read()
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text + f"\n# reload {n}\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def main():
    parent, repo = repository()
    d = Daemon(repo, extra_args=("--model-control-mode", "explicit"), log_format="text")
    ok = True
    try:
        d.wait_ready()
        gens = [Load(d, name, rest=2, grpc_threads=1, inputs=inputs)
                for name, (_, _, inputs) in MODELS.items()]
        times = {}
        for g in gens:
            g.__enter__()
        try:
            for g in gens:
                g.wait_answers(100)
            for name, (_, source, _) in MODELS.items():
                times[name] = []
                for n in range(RELOADS):
                    touch_source(repo, name, source, n)
                    status, body, sent, returned = load(d, name)
                    if status != 200:
                        print(f"load {name} #{n}: {status} {body}")
                        ok = False
                    times[name].append((returned - sent) * 1e3)
                    for g in gens:
                        g.wait_answers(20)
        finally:
            answers = [a for g in gens for a in g.stop()]
        failed = failures(answers)
        ok = ok and not failed
        print(f"reload under load: {RELOADS} reloads per model, 2 REST + 1 gRPC clients per model,"
              f" both models loaded throughout")
        print(f"requests sent: {len(answers)}, failed: {len(failed)}"
              + (f"  e.g. {failed[0]}" if failed else ""))
        print(f"{'model':<14} {'runtime':<8} {'load->200 p50':>14} {'max':>10}")
        for name, (runtime, _, _) in MODELS.items():
            t = times.get(name) or [float("nan")]
            print(f"{name:<14} {runtime:<8} {statistics.median(t):>11.0f} ms {max(t):>7.0f} ms")
    finally:
        d.stop()
        shutil.rmtree(parent, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
