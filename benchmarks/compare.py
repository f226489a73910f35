"""`make bench`: modelgate side by side with what users run today, in one run
on this machine, on the same models and the same 1-row requests.

Peers: a fresh Rscript / python3 per request (hyperfine), plumber serving the
R glm, gunicorn (2 sync workers) + Flask serving the sklearn model. modelgate
over REST (wrk) and gRPC (mg_loadgen), with and without dynamic batching, at
concurrency 1 and 16. Prints one table with req/s, p50, p99 and the ratio of
each modelgate figure to its peer, then the latency breakdown, daemon RSS and
start-up time. Everything targets 127.0.0.1; every load run is bounded in time.

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
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
PYTHON = "/usr/bin/python3"
MODELS = os.path.join(ROOT, "examples", "models")
RDS = os.path.join(MODELS, "mtcars_am", "1", "model.rds")
PKL = os.path.join(MODELS, "iris_species", "1", "model.pkl")

MTCARS_V2 = {"inputs": [{"name": "wt", "datatype": "FP64", "shape": [1], "data": [2.62]},
                        {"name": "hp", "datatype": "FP64", "shape": [1], "data": [110]}]}
IRIS_V2 = {"inputs": [{"name": "features", "datatype": "FP64", "shape": [1, 4],
                       "data": [5.1, 3.5, 1.4, 0.2]}]}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=120, method="GET", body=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not up within {timeout}s")


def to_us(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    v = float(m.group(1))
    return v * {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6}[m.group(2)]


def wrk(url, body, conc, seconds=None):
    """(req/s, p50 us, p99 us) of a closed-loop POST load with wrk."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        script = f.name
    threads = 1 if conc == 1 else 2
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conc}", f"-d{seconds or SECONDS}s", "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
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
                         capture_output=True, text=True, check=True).stdout
    f = dict(kv.split("=") for kv in out.split())
    return float(f["rps"]), float(f["p50_us"]), float(f["p99_us"])


def hyperfine(command, runs=10):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    subprocess.run(["hyperfine", "--runs", str(runs), "--warmup", "1", "--export-json", path,
                    "--style", "none", command], check=True, capture_output=True)
    with open(path) as f:
        times = sorted(json.load(f)["results"][0]["times"])
    os.unlink(path)
    p50 = times[len(times) // 2] * 1e6
    return 1e6 / p50, p50, times[-1] * 1e6  # serial req/s, p50, max (as p99 of 10 runs)


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


def bench_repository():
    """The two example models without batching (the examples batch
    opportunistically, max_queue_delay_us 0) and batched twins (same code,
    batching with a delay)."""
    repo = tempfile.mkdtemp(prefix="modelgate-bench-")
    for name in ("mtcars_am", "iris_species"):
        with open(os.path.join(MODELS, name, "config.json")) as f:
            config = json.load(f)
        for twin, batching in ((name, None),
                               (name + "_batched", {"max_batch_size": 64, "max_queue_delay_us": 500})):
            os.makedirs(os.path.join(repo, twin))
            os.symlink(os.path.join(MODELS, name, "1"), os.path.join(repo, twin, "1"))
            config.pop("dynamic_batching", None)
            if batching:
                config["dynamic_batching"] = batching
            with open(os.path.join(repo, twin, "config.json"), "w") as f:
                json.dump(config, f)
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


def main():
    rows = []  # (what, model, protocol, conc, rps, p50, p99, peer key)
    peers = {}

    # 1. A fresh interpreter per request (the seeds' naive design).
    r_cmd = (f"Rscript -e 'fit <- readRDS(\"{RDS}\"); "
             "cat(predict(fit, newdata = data.frame(wt = 2.62, hp = 110), type = \"response\"))'")
    py_cmd = (f"{PYTHON} -c 'import pickle, numpy as np; m = pickle.load(open(\"{PKL}\", \"rb\")); "
              "print(m.predict_proba(np.array([[5.1, 3.5, 1.4, 0.2]])))'")
    peers["rscript"] = hyperfine(r_cmd)
    rows.append(("Rscript per request", "mtcars_am", "exec", 1, *peers["rscript"], None))
    peers["python"] = hyperfine(py_cmd)
    rows.append(("python3 per request", "iris_species", "exec", 1, *peers["python"], None))

    # 2. plumber and gunicorn+Flask.
    port = free_port()
    plumber = start(["Rscript", "-e", f"pr <- plumber::plumb('{ROOT}/benchmarks/peers/plumber_mtcars.R'); "
                                      f"pr$run(host = '127.0.0.1', port = {port})"], env={"MODEL_RDS": RDS})
    try:
        body = {"wt": [2.62], "hp": [110]}
        wait_http(f"http://127.0.0.1:{port}/predict", method="POST", body=json.dumps(body).encode())
        for conc in (1, 16):
            peers[("plumber", conc)] = wrk(f"http://127.0.0.1:{port}/predict", body, conc)
            rows.append(("plumber", "mtcars_am", "REST", conc, *peers[("plumber", conc)], None))
    finally:
        stop(plumber)
    port = free_port()
    gunicorn = start(["gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "flask_iris:app"],
                     env={"MODEL_PKL": PKL}, cwd=os.path.join(ROOT, "benchmarks", "peers"))
    try:
        body = {"features": [[5.1, 3.5, 1.4, 0.2]]}
        wait_http(f"http://127.0.0.1:{port}/predict", method="POST", body=json.dumps(body).encode())
        for conc in (1, 16):
            peers[("gunicorn", conc)] = wrk(f"http://127.0.0.1:{port}/predict", body, conc)
            rows.append(("gunicorn+Flask (2 sync)", "iris_species", "REST", conc, *peers[("gunicorn", conc)], None))
    finally:
        stop(gunicorn)

    # 3. modelgate.
    repo = bench_repository()
    http, grpc, metrics = free_port(), free_port(), free_port()
    t0 = time.monotonic()
    daemon = start([os.path.join(BUILD, "modelgate"), "--model-repository", repo, "--host", "127.0.0.1",
                    "--http-port", str(http), "--grpc-port", str(grpc), "--metrics-port", str(metrics),
                    "--access-log", "false", "--python", PYTHON])
    try:
        wait_http(f"http://127.0.0.1:{http}/v2/health/ready")
        startup = time.monotonic() - t0
        with open(f"/proc/{daemon.pid}/status") as f:
            rss_kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        # Each R worker's first predict takes ~100 ms (R lazy-loads stats);
        # warm every worker before measuring, as for the peers above.
        for name, body in (("mtcars_am", MTCARS_V2), ("iris_species", IRIS_V2),
                           ("mtcars_am_batched", MTCARS_V2), ("iris_species_batched", IRIS_V2)):
            wrk(f"http://127.0.0.1:{http}/v2/models/{name}/infer", body, 4, seconds=1)
        breakdown = {}
        for model, body, peer in (("mtcars_am", MTCARS_V2, "plumber"), ("iris_species", IRIS_V2, "gunicorn")):
            for batched in (False, True):
                name = model + ("_batched" if batched else "")
                what = "modelgate" + (" +batching" if batched else "")
                for conc in (1, 16):
                    before = scrape(metrics)
                    res = wrk(f"http://127.0.0.1:{http}/v2/models/{name}/infer", body, conc)
                    rows.append((what, model, "REST", conc, *res, (peer, conc)))
                    if conc == 1 and not batched:
                        after = scrape(metrics)
                        breakdown[model] = {
                            k: mean_of(after, before, f"modelgate_{k}_duration_seconds",
                                       f'model="{model}",protocol="http",version="1"' if k == "request"
                                       else f'model="{model}",version="1"')
                            for k in ("request", "queue", "compute")}
                    res = loadgen(grpc, name, conc)
                    rows.append((what, model, "gRPC", conc, *res, (peer, conc)))
    finally:
        stop(daemon)
        shutil.rmtree(repo, ignore_errors=True)

    # 4. The table.
    print(f"\nmodelgate vs what users run today ({SECONDS} s per load run, 1-row requests, loopback)\n")
    print(f"| {'server':24} | {'model':12} | {'proto':5} | {'conc':>4} | {'req/s':>8} | {'p50':>9} | {'p99':>9} "
          f"| {'req/s vs peer':>13} | {'p50 vs peer':>11} |")
    print("|" + "|".join("-" * w for w in (26, 14, 7, 6, 10, 11, 11, 15, 13)) + "|")
    for what, model, proto, conc, rps, p50, p99, peer in rows:
        ratio_rps = ratio_p50 = ""
        if peer:
            prps, pp50, _ = peers[peer]
            ratio_rps = f"{rps / prps:.1f}x"
            ratio_p50 = f"{pp50 / p50:.1f}x lower"
        print(f"| {what:24} | {model:12} | {proto:5} | {conc:>4} | {rps:>8.0f} | {p50 / 1000:>7.2f}ms "
              f"| {p99 / 1000:>7.2f}ms | {ratio_rps:>13} | {ratio_p50:>11} |")
    r_rest = [r for r in rows if r[0] == "modelgate" and r[1] == "mtcars_am" and r[2] == "REST" and r[3] == 1][0]
    print(f"\nR model, REST, concurrency 1: p50 {peers['rscript'][1] / r_rest[5]:.0f}x lower than a fresh "
          f"Rscript per request ({peers['rscript'][1] / 1000:.0f} ms)")
    print("\nLatency breakdown at concurrency 1 over REST (means from the daemon's own histograms):")
    for model, b in breakdown.items():
        print(f"  {model}: end to end {b['request']:.0f} us = front end (HTTP, JSON, validation) "
              f"{b['request'] - b['queue'] - b['compute']:.0f} us + queue {b['queue']:.0f} us "
              f"+ worker call {b['compute']:.0f} us (pipe, protobuf, tensor decode/encode in the runtime, "
              f"predict)")
    print(f"\ndaemon RSS with the examples loaded: {rss_kb / 1024:.1f} MiB (workers are separate processes); "
          f"start to ready: {startup:.1f} s")


if __name__ == "__main__":
    main()
