"""The chart's Grafana dashboard and Prometheus alert rules, checked with the
real tools: the rules rendered by the chart pass `promtool check rules` and
the unit tests of alerts_test.yaml (`promtool test rules`); then a real
Prometheus (the Debian binary, 127.0.0.1 only, storage in a temp dir)
scrapes a real daemon with R and Python workers under bounded traffic that
includes failures, and every dashboard query and every alert expression
evaluates through /api/v1/query without error and returns series."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request

import yaml

SOURCE = os.environ["MODELGATE_SOURCE_DIR"]
RENDER = os.environ["MODELGATE_CHART_RENDER"]
PROMETHEUS = os.environ.get("MODELGATE_PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("MODELGATE_PROMTOOL", "/usr/bin/promtool")
CHART = os.path.join(SOURCE, "deploy", "helm", "modelgate")
DASHBOARD = os.path.join(CHART, "files", "dashboard.json")
UNIT_TESTS = os.path.join(SOURCE, "tests", "deploy", "alerts_test.yaml")
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "py"))

from daemon import Daemon, free_ports, make_repository, request, wait_for  # noqa: E402

# An alert expression ends in its threshold comparison (prometheus-rules.yaml's contract).
THRESHOLD = re.compile(r"\s*(>=|<=|==|!=|>|<)\s*[0-9.eE+-]+\s*$")


def render_monitoring(tmp, extra=""):
    """{kind: [objects]} of the chart with the dashboard and rules switched on."""
    values = os.path.join(tmp, "values-monitoring.yaml")
    with open(values, "w") as f:
        f.write("grafanaDashboard:\n  enabled: true\nprometheusRule:\n  enabled: true\n" + extra)
    out = subprocess.run([RENDER, "--chart", CHART, "--values", values], check=True,
                         capture_output=True, text=True).stdout
    objects = {}
    for doc in yaml.safe_load_all(out):
        if doc:
            objects.setdefault(doc["kind"], []).append(doc)
    return objects


def write_rules(tmp, objects):
    """The PrometheusRule's spec as a Prometheus rule file; its path."""
    path = os.path.join(tmp, "rules.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(objects["PrometheusRule"][0]["spec"], f, sort_keys=False, width=10000)
    return path


def panel_queries(dashboard):
    """[(panel title, PromQL)] with Grafana's variables as the dashboard's
    "All" selection would send them; a 5m rate interval spans the whole
    test's traffic however slow the machine."""
    out = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$model", ".*").replace("$__rate_interval", "5m")
            out.append((panel["title"], expr))
    return out


class RulesAndDashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="modelgate-monitoring-")
        cls.objects = render_monitoring(cls.tmp)
        cls.rules = write_rules(cls.tmp, cls.objects)
        shutil.copy(UNIT_TESTS, cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_promtool_check_rules_passes(self):
        r = subprocess.run([PROMTOOL, "check", "rules", self.rules], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS: 9 rules found", r.stdout)

    def test_promtool_unit_tests_fire_each_alert_and_only_where_due(self):
        r = subprocess.run([PROMTOOL, "test", "rules", "alerts_test.yaml"], cwd=self.tmp,
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(UNIT_TESTS) as f:
            tested = {t["alertname"] for g in yaml.safe_load(f)["tests"] for t in g["alert_rule_test"]}
        with open(self.rules) as f:
            alerts = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}
        self.assertEqual(tested, alerts)

    def test_promtool_unit_tests_fail_when_a_threshold_moves(self):
        # The unit tests pin the defaults: an error-ratio threshold of 0.2
        # leaves the 10% "bad" model silent, and promtool says so.
        objects = render_monitoring(self.tmp, "  errorRatio: 0.2\n")
        moved = tempfile.mkdtemp(dir=self.tmp)
        write_rules(moved, objects)
        shutil.copy(UNIT_TESTS, moved)
        r = subprocess.run([PROMTOOL, "test", "rules", "alerts_test.yaml"], cwd=moved,
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("alertname: ModelgateHighErrorRatio", r.stdout + r.stderr)

    def test_thresholds_come_from_values(self):
        objects = render_monitoring(self.tmp, "  p99Seconds: 0.25\n  notReadyFor: 3m\n")
        rules = {r["alert"]: r for g in objects["PrometheusRule"][0]["spec"]["groups"]
                 for r in g["rules"]}
        self.assertTrue(rules["ModelgateP99LatencyHigh"]["expr"].endswith("> 0.25"))
        self.assertEqual(rules["ModelgateModelNotReady"]["for"], "3m")
        # Prometheus' own templates survive Helm's tpl untouched.
        self.assertIn("{{ $labels.model }}", rules["ModelgateCircuitBreakerOpen"]["annotations"]["summary"])

    def test_autoscaler_can_scale_on_queue_depth_alone(self):
        objects = render_monitoring(self.tmp, "autoscaling:\n  enabled: true\n"
                                    "  targetCPUUtilizationPercentage: 0\n  customMetric:\n"
                                    "    name: modelgate_queue_depth\n    targetAverageValue: \"2\"\n")
        metrics = objects["HorizontalPodAutoscaler"][0]["spec"]["metrics"]
        self.assertEqual(metrics, [{"type": "Pods", "pods": {
            "metric": {"name": "modelgate_queue_depth"},
            "target": {"type": "AverageValue", "averageValue": "2"}}}])

    def test_notes_name_the_dashboard_label_the_rules_and_the_adapter(self):
        values = os.path.join(SOURCE, "tests", "deploy", "values-test.yaml")
        notes = os.path.join(self.tmp, "notes.txt")
        subprocess.run([RENDER, "--chart", CHART, "--values", values, "--notes", notes], check=True,
                       capture_output=True)
        with open(notes) as f:
            text = f.read()
        self.assertIn("label dashboards.example.com/grafana=modelgate", text)
        self.assertIn("p99 objective 0.25 s", text)
        self.assertIn("pods/*/modelgate_inflight_requests", text)

    def test_dashboard_configmap_carries_the_sidecar_label_and_the_file(self):
        cm = [c for c in self.objects["ConfigMap"] if c["metadata"]["name"].endswith("-dashboard")][0]
        self.assertEqual(cm["metadata"]["labels"]["grafana_dashboard"], "1")
        with open(DASHBOARD) as f:
            self.assertEqual(json.loads(cm["data"]["modelgate.json"]), json.load(f))

    def test_dashboard_has_datasource_and_model_variables_used_by_every_panel(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        self.assertEqual(variables["datasource"]["type"], "datasource")
        self.assertEqual(variables["datasource"]["query"], "prometheus")
        self.assertEqual(variables["model"]["allValue"], ".*")
        for panel in dash["panels"]:
            self.assertEqual(panel["datasource"]["uid"], "${datasource}", panel["title"])
            for target in panel["targets"]:
                self.assertIn('model=~"$model"', target["expr"], panel["title"])
        self.assertEqual(len({p["id"] for p in dash["panels"]}), len(dash["panels"]))


class Prometheus:
    """The Debian Prometheus on a free loopback port, scraping `target`
    every second and evaluating `rules`; storage in `tmp`."""

    def __init__(self, tmp, target, rules):
        (self.port,) = free_ports(1)
        config = os.path.join(tmp, "prometheus.yml")
        with open(config, "w") as f:
            yaml.safe_dump({
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [rules],
                "scrape_configs": [{"job_name": "modelgate",
                                    "static_configs": [{"targets": [target]}]}],
            }, f)
        self.log_path = os.path.join(tmp, "prometheus.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp}/data",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=self._log, stderr=subprocess.STDOUT)

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, body = request("GET", url, timeout=10)
        return status, body

    def query(self, expr):
        return self.api("query", query=expr)

    def value(self, expr):
        """The single value of `expr` now, or None."""
        status, body = self.query(expr)
        if status != 200 or not body["data"]["result"]:
            return None
        return float(body["data"]["result"][0]["value"][1])

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def infer(d, model, data, datatype="FP64", name="x", shape=None):
    body = {"inputs": [{"name": name, "datatype": datatype,
                        "shape": shape or [len(data)], "data": data}]}
    return request("POST", f"{d.base}/v2/models/{model}/infer", body)[0]


class RealPrometheusTest(unittest.TestCase):
    """Known traffic: iris_species (Python) and describe (R) answer; describe
    refuses too-short input (400); picky_py raises (500); crash_py's worker
    dies once (503, restart reason crash); load_fail_py fails to load."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="modelgate-prometheus-")
        rules = write_rules(cls.tmp, render_monitoring(cls.tmp))
        cls.repo = make_repository(examples=("iris_species", "describe"),
                                   test_models=("picky_py", "crash_py", "cached_py"))
        cls.d = Daemon(cls.repo, ["--model-control-mode", "explicit"])
        cls.prom = None
        try:
            cls.d.wait_ready()
            cls.prom = Prometheus(cls.tmp, f"127.0.0.1:{cls.d.metrics_port}", rules)
            if not wait_for(cls.prom.ready, timeout=60, step=0.2):
                raise RuntimeError("prometheus not ready:\n" + cls.prom.log())
            if not wait_for(lambda: cls.prom.value('up{job="modelgate"}') == 1, timeout=30,
                            step=0.2):
                raise RuntimeError("prometheus does not scrape the daemon:\n" + cls.prom.log())
            cls.statuses = cls.traffic()
            # Every counter the traffic moved, and the load failure's new
            # series, seen in several scrapes: rate() and increase() have
            # samples to work on.
            ok = wait_for(lambda: (cls.prom.value(
                'count_over_time(modelgate_model_loads_total{model="load_fail_py",result="failure"}[1m])')
                or 0) >= 3 and (cls.prom.value(
                    'sum(modelgate_requests_total{model="picky_py",code="INTERNAL"})') or 0) >= 3,
                timeout=60, step=0.5)
            if not ok:
                raise RuntimeError("the traffic never showed in prometheus:\n" + cls.prom.log())
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def traffic(cls):
        d, statuses = cls.d, []
        cls.cache_statuses = []
        for i in range(20):
            statuses.append(infer(d, "iris_species", [5.1, 3.5, 1.4, 0.2], shape=[1, 4],
                                  name="features"))
            statuses.append(infer(d, "describe", [1.0, 2.0, float(i)]))
            statuses.append(infer(d, "picky_py", [2.0]))
        for _ in range(5):
            statuses.append(infer(d, "describe", [1.0]))   # invalid_input: 400
        for _ in range(3):
            statuses.append(infer(d, "picky_py", [-1.0]))  # raises: 500
        statuses.append(infer(d, "crash_py", [-1.0]))     # worker exits: 503
        # cached_py (response_cache of 3): 4 misses (one evicts), 6 hits; not
        # in `statuses`, which counts the error traffic.
        for x in (1.0, 2.0, 3.0, 4.0) + (4.0,) * 6:
            cls.cache_statuses.append(infer(d, "cached_py", [x]))
        wait_for(lambda: d.metric("modelgate_worker_restarts_total", model="crash_py", version="1",
                                  reason="crash") >= 1, timeout=30)
        os.symlink(os.path.join(SOURCE, "tests", "models", "load_fail_py"),
                   os.path.join(cls.repo, "load_fail_py"))
        statuses.append(request("POST", f"{d.base}/v2/repository/models/load_fail_py/load", b"")[0])
        return statuses

    @classmethod
    def tearDownClass(cls):
        if cls.prom:
            cls.prom.stop()
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_traffic_was_what_the_test_meant(self):
        self.assertEqual(self.statuses.count(200), 60)
        self.assertEqual(self.statuses.count(400), 5)
        self.assertEqual(self.statuses.count(500), 3 + 1)  # picky_py raises, load_fail_py's load
        self.assertEqual(self.statuses.count(503), 1)

    def test_every_dashboard_query_evaluates_and_returns_series(self):
        with open(DASHBOARD) as f:
            dash = json.load(f)
        for title, expr in panel_queries(dash):
            status, body = self.prom.query(expr)
            self.assertEqual(status, 200, f"{title}: {expr}: {body}")
            self.assertEqual(body["status"], "success", title)
            self.assertTrue(body["data"]["result"], f"{title}: {expr} returned no series")
        # The model variable's label_values() query lists the served models.
        status, body = self.prom.api("label/model/values", **{"match[]": "modelgate_requests_total"})
        self.assertEqual(status, 200, body)
        self.assertLessEqual({"iris_species", "describe", "picky_py", "crash_py"}, set(body["data"]))

    def test_dashboard_panels_show_the_traffic(self):
        with open(DASHBOARD) as f:
            queries = dict(panel_queries(json.load(f)))
        status, body = self.prom.query(queries["Errors / s by code"])
        codes = {s["metric"]["code"]: float(s["value"][1]) for s in body["data"]["result"]}
        for code in ("INVALID_ARGUMENT", "INTERNAL", "UNAVAILABLE"):
            self.assertGreater(codes.get(code, 0), 0, f"{code}: {codes}")
        status, body = self.prom.query(queries["Worker restarts and kills by reason"])
        reasons = {s["metric"]["reason"]: float(s["value"][1]) for s in body["data"]["result"]}
        self.assertGreater(reasons["crash"], 0, reasons)
        # The cache series exist only for the model with a response cache.
        self.assertEqual(self.cache_statuses, [200] * 10)
        status, body = self.prom.query(
            'sum by (model) (modelgate_cache_hits_total) + 0 * '
            'sum by (model) (modelgate_cache_evictions_total)')
        got = {s["metric"]["model"]: float(s["value"][1]) for s in body["data"]["result"]}
        self.assertEqual(got, {"cached_py": 6.0})

    def test_every_alert_expression_evaluates_and_returns_series_without_its_threshold(self):
        with open(os.path.join(self.tmp, "rules.yaml")) as f:
            rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        for rule in rules:
            status, body = self.prom.query(rule["expr"])
            self.assertEqual((status, body["status"]), (200, "success"), f"{rule['alert']}: {body}")
            bare = THRESHOLD.sub("", rule["expr"])
            self.assertNotEqual(bare, rule["expr"], f"{rule['alert']} ends in no threshold")
            status, body = self.prom.query(bare)
            self.assertEqual(status, 200, f"{rule['alert']}: {body}")
            self.assertTrue(body["data"]["result"], f"{rule['alert']}: {bare} returned no series")

    def test_prometheus_evaluates_the_rules_and_the_due_alerts_go_off(self):
        status, body = self.prom.api("rules")
        self.assertEqual(status, 200, body)
        rules = [r for g in body["data"]["groups"] for r in g["rules"]]
        self.assertEqual(len(rules), 9)
        # Evaluated at least once by now (1 s interval), each without error.
        wait_for(lambda: all(r.get("lastEvaluation", "").startswith("2") for r in
                             [x for g in self.prom.api("rules")[1]["data"]["groups"]
                              for x in g["rules"]]), timeout=10, step=0.5)
        for r in [x for g in self.prom.api("rules")[1]["data"]["groups"] for x in g["rules"]]:
            self.assertEqual(r["health"], "ok", f"{r['name']}: {r.get('lastError')}")

        def alerts():
            status, body = self.prom.api("alerts")
            return {(a["labels"]["alertname"], a["labels"].get("model")): a["state"]
                    for a in body["data"]["alerts"]}

        # No `for`: the load failure fires at once. picky_py's error ratio
        # (3 of 23) is pending for its 5m; the healthy models raise nothing.
        wait_for(lambda: ("ModelgateModelLoadFailed", "load_fail_py") in alerts()
                 and ("ModelgateHighErrorRatio", "picky_py") in alerts(), timeout=15, step=0.5)
        got = alerts()
        self.assertEqual(got.get(("ModelgateModelLoadFailed", "load_fail_py")), "firing", got)
        self.assertEqual(got.get(("ModelgateHighErrorRatio", "picky_py")), "pending", got)
        for model in ("iris_species", "describe"):
            self.assertFalse([k for k in got if k[1] == model], got)


if __name__ == "__main__":
    unittest.main()
