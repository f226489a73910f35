"""`make bench`: modelgate side by side with what users run today, in one run
on this machine, on the same 1-row requests, and the issue's target table.

Rows (every load run lasts BENCH_SECONDS, default 5, on 127.0.0.1):
- a fresh Rscript / python3 per request (hyperfine, 10 runs);
- the peers at their best configuration: plumber (one R process) measured
  with `Connection: close` (with keep-alive it stalls ~40 ms per request on
  delayed ACK), gunicorn with one sync worker per core (`nproc`) + Flask;
  each serves the example model and a trivial endpoint returning its input;
- modelgate serving the examples (mtcars_am in R, iris_species in Python) and
  the trivial echo models (benchmarks/models/echo_r, echo_py), each twice:
  as configured (opportunistic batching: max_batch_size 64,
  max_queue_delay_us 0) and a copy without dynamic_batching; over REST (wrk,
  keep-alive) and gRPC (mg_loadgen), at concurrency 1 and 16;
- a cached hit: copies of the examples with "response_cache", REST c=1;
- worker round trips (build/worker_roundtrip): round trip minus the model's
  own predict minus a bare pipe echo;
- the CPU each server (and its workers, and wrk) used during the REST
  concurrency-16 runs, from /proc, in cores.
Prints figures and ratios against the baselines measured in this run; asserts
nothing. The daemon uses its default worker host, or the one named by
MODELGATE_WORKER_HOST (the daemon reads MODELGATE_<OPTION> from its
environment).

    benchmarks/compare.py BUILD_DIR
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDTRIPS = int(os.environ.get("BENCH_ROUNDTRIPS", "2000"))
PYTHON = "/usr/bin/python3"
EXAMPLES = os.path.join(ROOT, "examples", "models")
BENCH_MODELS = os.path.join(ROOT, "benchmarks", "models")
RDS = os.path.join(EXAMPLES, "mtcars_am", "1", "model.rds")
PKL = os.path.join(EXAMPLES, "iris_species", "1", "model.pkl")
CORES = os.cpu_count() or 1

MTCARS_V2 = {"inputs": [{"name": "wt", "datatype": "FP64", "shape": [1], "data": [2.62]},
                        {"name": "hp", "datatype": "FP64", "shape": [1], "data": [110]}]}
IRIS_V2 = {"inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 4],
                       "data": [5.1, 3.5, 1.4, 0.2]}]}
ECHO_V2 = {"inputs": [{"name": "x", "datatype": "FP64", "shape": [1], "data": [2.62]}]}

# model -> (source dir, V2 body, peer, runtime)
MODELS = {
    "mtcars_am": (EXAMPLES, MTCARS_V2, "plumber/predict", "R"),
    "echo_r": (BENCH_MODELS, ECHO_V2, "plumber/echo", "R"),
    "iris_species": (EXAMPLES, IRIS_V2, "gunicorn/predict", "Python"),
    "echo_py": (BENCH_MODELS, ECHO_V2, "gunicorn/echo", "Python"),
}
CACHED = ("mtcars_am", "iris_species")
BATCHED = "batching (64 rows, delay 0)"
UNBATCHED = "no batching"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_ok(url, method="GET", body=None):
    try:
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=2) as r:
            return r.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def wait_http(url, timeout=120, method="GET", body=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if http_ok(url, method, body):
            return True
        time.sleep(0.1)
    return False


def to_us(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[m.group(2)]


def wrk(url, body, conc, seconds=None, close=False):
    """(req/s, p50 us, p99 us) of a closed-loop POST load with wrk; `close`
    sends `Connection: close` (a new connection per request)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        script = f.name
    threads = 1 if conc == 1 else 2
    args = ["wrk", f"-t{threads}", f"-c{conc}", f"-d{seconds or SECONDS}s", "--timeout", "10s", "--latency"]
    if close:
        args += ["-H", "Connection: close"]
    out = subprocess.run(args + ["-s", script, url], capture_output=True, text=True, check=True,
                         timeout=(seconds or SECONDS) + 60).stdout
    os.unlink(script)
    try:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = to_us(re.search(r"\s50%\s+(\S+)", out).group(1))
        p99 = to_us(re.search(r"\s99%\s+(\S+)", out).group(1))
    except AttributeError:
        raise RuntimeError(f"cannot read wrk's output for {url}:\n{out}") from None
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} error responses")
    return rps, p50, p99


def loadgen(port, model, conc):
    out = subprocess.run([os.path.join(BUILD, "mg_loadgen"), "--protocol", "grpc", "--port", str(port),
                          "--model", model, "--concurrency", str(conc), "--seconds", str(SECONDS)],
                         capture_output=True, text=True, check=True, timeout=SECONDS + 60).stdout
    f = dict(kv.split("=") for kv in out.split())
    return float(f["rps"]), float(f["p50_us"]), float(f["p99_us"])


def hyperfine(command, runs=10):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    subprocess.run(["hyperfine", "--runs", str(runs), "--warmup", "1", "--export-json", path,
                    "--style", "none", command], check=True, capture_output=True, timeout=300)
    with open(path) as f:
        times = sorted(json.load(f)["results"][0]["times"])
    os.unlink(path)
    p50 = times[len(times) // 2] * 1e6
    return 1e6 / p50, p50, times[-1] * 1e6  # serial req/s, p50, max (as p99 of 10 runs)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, CPU seconds: user + system, all threads) from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_snapshot(root):
    """CPU seconds of `root` and of each of its children, by pid."""
    snap = {"server": proc_stat(root)[1], "children": {}}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid, seconds = proc_stat(int(entry))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            if ppid == root:
                snap["children"][int(entry)] = seconds
    return snap


def measure_cpu(root, run):
    """run()'s result, and the cores (CPU seconds per wall second) that the
    server process, its children (workers) and the load generator (this
    script's waited-for child) used meanwhile. A child that exits during the
    run is left out."""
    before, t_before, wall = cpu_snapshot(root), os.times(), time.monotonic()
    result = run()
    after, t_after, wall = cpu_snapshot(root), os.times(), time.monotonic() - wall
    children = sum(after["children"][pid] - before["children"][pid]
                   for pid in after["children"] if pid in before["children"])
    loadgen_cpu = (t_after.children_user + t_after.children_system
                   - t_before.children_user - t_before.children_system)
    return result, ((after["server"] - before["server"]) / wall, children / wall, loadgen_cpu / wall)


def start(args, env=None, cwd=None):
    return subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def worker_roundtrips():
    """worker_roundtrip's table (printed) and its hop lines: model -> fields."""
    proc = subprocess.run([os.path.join(BUILD, "worker_roundtrip"), str(ROUNDTRIPS)], capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"worker_roundtrip failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    out = proc.stdout
    hops = {}
    for line in out.splitlines():
        if line.startswith("hop model="):
            f = dict(kv.split("=") for kv in line.split()[1:])
            model = f.pop("model")
            hops[model] = {k: float(v) for k, v in f.items()}
        else:
            print(line)
    return hops


def bench_repository():
    """Each model as configured (opportunistic batching), a copy without
    dynamic_batching ("<name>_unbatched"), and copies of the examples with a
    response cache ("<name>_cached"). Version dirs are symlinks."""
    repo = tempfile.mkdtemp(prefix="modelgate-bench-")

    def add(name, source, config):
        os.makedirs(os.path.join(repo, name))
        os.symlink(os.path.join(source, "1"), os.path.join(repo, name, "1"))
        with open(os.path.join(repo, name, "config.json"), "w") as f:
            json.dump(config, f)

    for name, (where, _, _, _) in MODELS.items():
        source = os.path.join(where, name)
        with open(os.path.join(source, "config.json")) as f:
            config = json.load(f)
        config.pop("drift", None)  # its reference file is not in the copy
        add(name, source, config)
        add(name + "_unbatched", source, {k: v for k, v in config.items() if k != "dynamic_batching"})
        if name in CACHED:
            add(name + "_cached", source, {**config, "response_cache": {"max_entries": 1024}})
    return repo


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def mean_of(samples, before, name, labels):
    s = samples.get((name + "_sum", labels), 0) - before.get((name + "_sum", labels), 0)
    c = samples.get((name + "_count", labels), 0) - before.get((name + "_count", labels), 0)
    return s / c * 1e6 if c else float("nan")


def run_peers(rows, peers):
    port = free_port()
    plumber = start(["Rscript", "-e", f"pr <- plumber::plumb('{ROOT}/benchmarks/peers/plumber_mtcars.R'); "
                                      f"pr$run(host = '127.0.0.1', port = {port})"], env={"MODEL_RDS": RDS})
    try:
        bodies = {"predict": {"wt": [2.62], "hp": [110]}, "echo": {"x": [2.62]}}
        if not wait_http(f"http://127.0.0.1:{port}/predict", method="POST",
                         body=json.dumps(bodies["predict"]).encode()):
            raise RuntimeError("plumber did not come up within 120 s")
        for path, body in bodies.items():
            for conc in (1, 16):
                peers[(f"plumber/{path}", conc)], cpu = measure_cpu(
                    plumber.pid, lambda: wrk(f"http://127.0.0.1:{port}/{path}", body, conc, close=True))
                if conc == 16:
                    peers[("cpu", f"plumber/{path}")] = cpu
                rows.append(("plumber (Connection: close)", "mtcars_am" if path == "predict" else "echo",
                             "REST", conc, *peers[(f"plumber/{path}", conc)], None))
    finally:
        stop(plumber)
    port = free_port()
    gunicorn = start(["gunicorn", "-w", str(CORES), "-b", f"127.0.0.1:{port}", "flask_iris:app"],
                     env={"MODEL_PKL": PKL}, cwd=os.path.join(ROOT, "benchmarks", "peers"))
    try:
        bodies = {"predict": {"features": [[5.1, 3.5, 1.4, 0.2]]}, "echo": {"x": [2.62]}}
        if not wait_http(f"http://127.0.0.1:{port}/predict", method="POST",
                         body=json.dumps(bodies["predict"]).encode()):
            raise RuntimeError("gunicorn did not come up within 120 s")
        for path, body in bodies.items():
            for conc in (1, 16):
                peers[(f"gunicorn/{path}", conc)], cpu = measure_cpu(
                    gunicorn.pid, lambda: wrk(f"http://127.0.0.1:{port}/{path}", body, conc))
                if conc == 16:
                    peers[("cpu", f"gunicorn/{path}")] = cpu
                rows.append((f"gunicorn+Flask ({CORES} sync)", "iris_species" if path == "predict" else "echo",
                             "REST", conc, *peers[(f"gunicorn/{path}", conc)], None))
    finally:
        stop(gunicorn)


def run_modelgate(rows, results, breakdown):
    """Loads the bench repository and measures every ready model. Returns
    (start-to-ready seconds, daemon RSS KiB, skipped models with reasons)."""
    repo = bench_repository()
    http, grpc, metrics = free_port(), free_port(), free_port()
    t0 = time.monotonic()
    daemon = start([os.path.join(BUILD, "modelgate"), "--model-repository", repo, "--host", "127.0.0.1",
                    "--http-port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics),
                    "--access-log", "false"])
    base = f"http://127.0.0.1:{http}"
    skipped = {}
    try:
        if not wait_http(f"{base}/v2/health/live", timeout=60):
            raise RuntimeError("modelgate did not come up within 60 s")
        names = sorted(os.listdir(repo))
        deadline = time.monotonic() + 120
        pending = set(names)
        while pending and time.monotonic() < deadline:
            pending = {n for n in pending if not http_ok(f"{base}/v2/models/{n}/ready")}
            time.sleep(0.1 if pending else 0)
        startup = time.monotonic() - t0
        for n in pending:
            skipped[n] = "not ready within 120 s (see the daemon's log: run it by hand)"
        with open(f"/proc/{daemon.pid}/status") as f:
            rss_kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        ready = [n for n in names if n not in pending]
        # Each R worker's first predicts are slow (R lazy-loads); warm every
        # worker before measuring, as for the peers.
        for n in ready:
            wrk(f"{base}/v2/models/{n}/infer", MODELS[n.split("_unbatched")[0].split("_cached")[0]][1], 4,
                seconds=1)
        for model, (_, body, peer, _) in MODELS.items():
            for name, what in ((model, BATCHED), (model + "_unbatched", UNBATCHED)):
                if name not in ready:
                    continue
                for conc in (1, 16):
                    before = scrape(metrics)
                    res, cpu = measure_cpu(daemon.pid, lambda: wrk(f"{base}/v2/models/{name}/infer", body, conc))
                    results[(model, what, "REST", conc)] = res
                    if conc == 16:
                        results[(model, what, "cpu")] = cpu
                    rows.append((f"modelgate, {what}", model, "REST", conc, *res, (peer, conc)))
                    if conc == 1 and what == UNBATCHED:
                        after = scrape(metrics)
                        breakdown[model] = {
                            k: mean_of(after, before, f"modelgate_{k}_duration_seconds",
                                       f'model="{name}",protocol="http",version="1"' if k == "request"
                                       else f'model="{name}",version="1"')
                            for k in ("request", "queue", "compute")}
                    res = loadgen(grpc, name, conc)
                    results[(model, what, "gRPC", conc)] = res
                    rows.append((f"modelgate, {what}", model, "gRPC", conc, *res, (peer, conc)))
        for model in CACHED:
            name = model + "_cached"
            if name in ready:
                before = scrape(metrics)
                res = wrk(f"{base}/v2/models/{name}/infer", MODELS[model][1], 1)
                after = scrape(metrics)
                labels = f'model="{name}",version="1"'
                results[(model, "cached", "REST", 1)] = res
                results[(model, "cache counts")] = tuple(
                    after.get((f"modelgate_cache_{k}_total", labels), 0)
                    - before.get((f"modelgate_cache_{k}_total", labels), 0) for k in ("hits", "misses"))
                rows.append(("modelgate, response_cache hit", model, "REST", 1, *res, (MODELS[model][2], 1)))
                # A hit over gRPC is answered on gRPC's own thread, as a hit
                # over REST is on the io thread: no thread hop on either.
                before = scrape(metrics)
                res = loadgen(grpc, name, 1)
                after = scrape(metrics)
                results[(model, "cached", "gRPC", 1)] = res
                results[(model, "grpc cache counts")] = tuple(
                    after.get((f"modelgate_cache_{k}_total", labels), 0)
                    - before.get((f"modelgate_cache_{k}_total", labels), 0) for k in ("hits", "misses"))
                rows.append(("modelgate, response_cache hit", model, "gRPC", 1, *res, (MODELS[model][2], 1)))
    finally:
        stop(daemon)
        shutil.rmtree(repo, ignore_errors=True)
    return startup, rss_kb, skipped


def print_table(rows, peers):
    print(f"\n| {'server':38} | {'model':12} | {'proto':5} | {'conc':>4} | {'req/s':>8} | {'p50':>9} "
          f"| {'p99':>9} | {'req/s vs peer':>13} | {'p50 vs peer':>11} |")
    print("|" + "|".join("-" * w for w in (40, 14, 7, 6, 10, 11, 11, 15, 13)) + "|")
    for what, model, proto, conc, rps, p50, p99, peer in rows:
        ratio_rps = ratio_p50 = ""
        if peer and peer in peers:
            prps, pp50, _ = peers[peer]
            ratio_rps = f"{rps / prps:.1f}x"
            ratio_p50 = f"{pp50 / p50:.1f}x lower"
        print(f"| {what:38} | {model:12} | {proto:5} | {conc:>4} | {rps:>8.0f} | {p50 / 1000:>7.2f}ms "
              f"| {p99 / 1000:>7.2f}ms | {ratio_rps:>13} | {ratio_p50:>11} |")


def verdict(ok):
    return "met" if ok else "MISSED"


def print_targets(hops, results, peers):
    """The issue's target table: each figure, its ratio against the baseline
    measured in this run, and the target."""
    print("\nAgainst the issue's targets (ratios against baselines measured in this run; printed, never "
          "asserted):")
    lines = []
    for model, (_, _, _, runtime) in MODELS.items():
        h = hops.get(model)
        if h:
            lines.append(f"{runtime} worker round trip - own predict - pipe echo, {model}: {h['hop_us']:.0f} us "
                         f"({h['rt_p50_us']:.0f} - {h['own_us']:.1f} - {h['echo_p50_us']:.0f}) "
                         f"(target <= 30 us): {verdict(h['hop_us'] <= 30)}")
            if "busy_echo_p50_us" in h:
                lines.append(f"  the same against an echo that spins the model's own {h['own_us']:.0f} us first "
                             f"(its p50 {h['busy_echo_p50_us']:.0f} us, {h['busy_echo_p50_us'] - h['own_us']:.0f} "
                             f"us beyond the spin, where the bare echo takes {h['echo_p50_us']:.0f}): rt - busy "
                             f"echo = {h['hop_vs_busy_us']:.0f} us")

    def rest(model, what, conc):
        return results.get((model, what, "REST", conc))

    for model in ("mtcars_am", "echo_r"):
        peer = MODELS[model][2]
        r = rest(model, BATCHED, 1)
        if r and (peer, 1) in peers:
            x = peers[(peer, 1)][1] / r[1]
            lines.append(f"R REST c=1 p50 vs {peer} (Connection: close), {model}: {r[1]:.0f} vs "
                         f"{peers[(peer, 1)][1]:.0f} us, {x:.1f}x lower (target >= 7x): {verdict(x >= 7)}")
        for what, target in ((UNBATCHED, 15), (BATCHED, 30)):
            r = rest(model, what, 16)
            if r and (peer, 16) in peers:
                x = r[0] / peers[(peer, 16)][0]
                lines.append(f"R REST c=16 throughput vs {peer}, {model}, {what}: {r[0]:.0f} vs "
                             f"{peers[(peer, 16)][0]:.0f} req/s, {x:.1f}x (target >= {target}x): "
                             f"{verdict(x >= target)}")
    for model in ("iris_species", "echo_py"):
        peer = MODELS[model][2]
        r = rest(model, BATCHED, 1)
        if r and (peer, 1) in peers:
            x = r[1] / peers[(peer, 1)][1]
            echo = hops.get(model, {}).get("echo_p50_us")
            hop = f"; of which the bare pipe echo (the extra process hop) {echo:.0f} us" if echo else ""
            lines.append(f"Python REST c=1 p50 vs {peer} ({CORES} sync), {model}: {r[1]:.0f} vs "
                         f"{peers[(peer, 1)][1]:.0f} us, {x:.2f}x (target <= 0.8x): {verdict(x <= 0.8)}{hop}")
        for what, target in ((UNBATCHED, 2), (BATCHED, 4)):
            r = rest(model, what, 16)
            if r and (peer, 16) in peers:
                x = r[0] / peers[(peer, 16)][0]
                lines.append(f"Python REST c=16 throughput vs {peer}, {model}, {what}: {r[0]:.0f} vs "
                             f"{peers[(peer, 16)][0]:.0f} req/s, {x:.1f}x (target >= {target}x): "
                             f"{verdict(x >= target)}")
    for model in MODELS:
        for what in (BATCHED, UNBATCHED):
            g, r = results.get((model, what, "gRPC", 1)), rest(model, what, 1)
            if g and r:
                x = g[1] / r[1]
                lines.append(f"gRPC p50 vs REST p50, c=1, {model}, {what}: {g[1]:.0f} vs {r[1]:.0f} us, "
                             f"{x:.2f}x (target <= 1.0x): {verdict(x <= 1.0)}")
    for model in CACHED:
        r = results.get((model, "cached", "REST", 1))
        if r:
            hits, misses = results[(model, "cache counts")]
            lines.append(f"cached hit p50, c=1, REST end to end, {model}: {r[1]:.0f} us "
                         f"(target <= 100 us): {verdict(r[1] <= 100)}; during the run the cache counted "
                         f"{hits:.0f} hits, {misses:.0f} misses")
        g = results.get((model, "cached", "gRPC", 1))
        if r and g:
            unc_g, unc_r = results.get((model, UNBATCHED, "gRPC", 1)), rest(model, UNBATCHED, 1)
            split = ""
            if unc_g and unc_r:
                gap, front = unc_g[1] - unc_r[1], g[1] - r[1]
                split = (f"; of the {gap:.0f} us gRPC pays over REST uncached ({UNBATCHED}), "
                         f"{front:.0f} us is gRPC's own front end and client, {gap - front:.0f} us what "
                         f"only an uncached call adds (the post from gRPC's thread to the io thread is "
                         f"4-18 us of it, measured by hand: benchmarks/README.md)")
            g_hits, g_misses = results[(model, "grpc cache counts")]
            lines.append(f"gRPC p50 vs REST p50 with no thread hop on either (a cached hit), c=1, {model}: "
                         f"{g[1]:.0f} vs {r[1]:.0f} us, {g[1] / r[1]:.2f}x (gRPC: {g_hits:.0f} hits, "
                         f"{g_misses:.0f} misses){split}")
    for line in lines:
        print("  " + line)


def main():
    host = os.environ.get("MODELGATE_WORKER_HOST") or "the daemon's default (MODELGATE_WORKER_HOST unset)"
    print(f"{SECONDS} s per load run, 1-row requests, loopback, {CORES} cores; worker host: {host}\n")
    print("-- worker round trips --")
    hops = worker_roundtrips()

    rows = []  # (what, model, protocol, conc, rps, p50, p99, peer key)
    peers = {}
    # A fresh interpreter per request (the seeds' naive design).
    r_cmd = (f"Rscript -e 'fit <- readRDS(\"{RDS}\"); "
             "cat(predict(fit, newdata = data.frame(wt = 2.62, hp = 110), type = \"response\"))'")
    py_cmd = (f"{PYTHON} -c 'import pickle, numpy as np; m = pickle.load(open(\"{PKL}\", \"rb\")); "
              "print(m.predict_proba(np.array([[5.1, 3.5, 1.4, 0.2]])))'")
    peers["rscript"] = hyperfine(r_cmd)
    rows.append(("Rscript per request", "mtcars_am", "exec", 1, *peers["rscript"], None))
    peers["python"] = hyperfine(py_cmd)
    rows.append(("python3 per request", "iris_species", "exec", 1, *peers["python"], None))
    run_peers(rows, peers)

    results, breakdown = {}, {}
    startup, rss_kb, skipped = run_modelgate(rows, results, breakdown)

    print("\n-- side by side --")
    print(f"(modelgate '{BATCHED}': the examples' own dynamic_batching; '{UNBATCHED}': a copy without it)")
    print_table(rows, peers)
    for name, why in sorted(skipped.items()):
        print(f"  skipped {name}: {why}")
    r_rest = results.get(("mtcars_am", BATCHED, "REST", 1))
    if r_rest:
        print(f"\nR model, REST, concurrency 1: p50 {peers['rscript'][1] / r_rest[1]:.0f}x lower than a fresh "
              f"Rscript per request ({peers['rscript'][1] / 1000:.0f} ms)")
    print("\nLatency breakdown at concurrency 1 over REST, no batching (means from the daemon's own histograms):")
    for model, b in breakdown.items():
        print(f"  {model}: end to end {b['request']:.0f} us = front end (HTTP, JSON, validation) "
              f"{b['request'] - b['queue'] - b['compute']:.0f} us + queue {b['queue']:.0f} us "
              f"+ worker call {b['compute']:.0f} us")
    print("\nCPU during the REST concurrency-16 runs, in cores (CPU seconds per wall second):")
    print(f"  {'server':<40} {'model':<13} {'server':>7} {'workers':>8} {'wrk':>6}")
    for model, (_, _, peer, _) in MODELS.items():
        cpu = peers.get(("cpu", peer))
        if cpu:
            kind = "plumber (one R process)" if peer.startswith("plumber") else f"gunicorn ({CORES} sync workers)"
            # gunicorn's workers are its master's children; plumber has none.
            print(f"  {kind:<40} {model:<13} {cpu[0]:>7.2f} {cpu[1]:>8.2f} {cpu[2]:>6.2f}")
        for what in (BATCHED, UNBATCHED):
            cpu = results.get((model, what, "cpu"))
            if cpu:
                print(f"  {'modelgate, ' + what:<40} {model:<13} {cpu[0]:>7.2f} {cpu[1]:>8.2f} {cpu[2]:>6.2f}")
    print(f"\ndaemon RSS with {len(MODELS) * 2 + len(CACHED)} models loaded: {rss_kb / 1024:.1f} MiB "
          f"(workers are separate processes); start to all ready: {startup:.1f} s")
    print_targets(hops, results, peers)


if __name__ == "__main__":
    main()
