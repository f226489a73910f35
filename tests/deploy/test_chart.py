"""Offline checks of deploy/: the Helm chart rendered with default and test
values (Go text/template + sprig), linted (yamllint), validated against the
Kubernetes schemas and values.schema.json (kubernetes-models, ajv), held to
what the daemon expects, and its ConfigMap models served by the real daemon;
the systemd unit verified; the Dockerfile's package groups checked."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

SOURCE = os.environ["MODELGATE_SOURCE_DIR"]
RENDER = os.environ["MODELGATE_CHART_RENDER"]
CHART = os.path.join(SOURCE, "deploy", "helm", "modelgate")
CHECKS = os.environ["MODELGATE_CHART_CHECKS"]  # validate.mjs beside its node_modules (build tree)
TEST_VALUES = os.path.join(SOURCE, "tests", "deploy", "values-test.yaml")
SECURITY_VALUES = os.path.join(SOURCE, "tests", "deploy", "values-security.yaml")
HEALTHCHECK = os.path.join(SOURCE, "deploy", "docker", "healthcheck.py")
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "py"))


def render(*value_files, tmp):
    """(objects by kind, rendered path, merged values path, notes text)."""
    out = os.path.join(tmp, f"rendered-{len(os.listdir(tmp))}.yaml")
    values_json = out + ".values.json"
    notes = out + ".notes.txt"
    args = [RENDER, "--chart", CHART, "--values-json", values_json, "--notes", notes]
    for f in value_files:
        args += ["--values", f]
    with open(out, "w") as f:
        subprocess.run(args, check=True, stdout=f)
    objects = {}
    with open(out) as f:
        for doc in yaml.safe_load_all(f):
            if doc:
                objects.setdefault(doc["kind"], []).append(doc)
    with open(notes) as f:
        return objects, out, values_json, f.read()


def render_failure(values_text, tmp):
    """(chart-render's error text, what values.schema.json says of the values)."""
    values = os.path.join(tmp, f"values-{len(os.listdir(tmp))}.yaml")
    with open(values, "w") as f:
        f.write(values_text)
    values_json, empty = values + ".json", values + ".empty.yaml"
    open(empty, "w").close()
    r = subprocess.run([RENDER, "--chart", CHART, "--values", values, "--values-json", values_json],
                       capture_output=True, text=True)
    return r.stderr if r.returncode else "", validate(empty, values_json).stderr


def daemon_flags():
    """Every --flag the daemon's --help lists."""
    out = subprocess.run([os.environ["MODELGATE_BINARY"], "--help"], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"^\s+--([a-z][a-z0-9-]*)", out, re.M))


def validate(rendered, values_json):
    return subprocess.run(
        ["node", os.path.join(CHECKS, "validate.mjs"), rendered, values_json,
         os.path.join(CHART, "values.schema.json")],
        cwd=CHECKS, capture_output=True, text=True)


class ChartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="modelgate-chart-")
        cls.default = render(tmp=cls.tmp)
        cls.custom = render(TEST_VALUES, tmp=cls.tmp)
        cls.security = render(SECURITY_VALUES, tmp=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_yamllint_passes_on_chart_values_and_rendered_output(self):
        files = [os.path.join(CHART, "Chart.yaml"), os.path.join(CHART, "values.yaml"), TEST_VALUES,
                 SECURITY_VALUES, self.default[1], self.custom[1], self.security[1]]
        r = subprocess.run(["yamllint", "-c", os.path.join(SOURCE, "deploy", "helm", ".yamllint"), *files],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_rendered_objects_and_values_pass_the_schemas(self):
        for objects, rendered, values_json, _ in (self.default, self.custom, self.security):
            r = validate(rendered, values_json)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("objects valid", r.stdout)
        self.assertEqual(sorted(self.default[0]), ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service"])
        self.assertEqual(sorted(self.custom[0]), ["ConfigMap", "Deployment", "HorizontalPodAutoscaler",
                                                  "PodDisruptionBudget", "PrometheusRule", "Service",
                                                  "ServiceMonitor"])

    def test_deliberately_broken_values_and_objects_fail(self):
        broken_values = os.path.join(self.tmp, "broken-values.yaml")
        with open(broken_values, "w") as f:
            f.write("ports:\n  http: \"eighty\"\nprobes:\n  type: tcp\n")
        _, rendered, values_json, _ = render(broken_values, tmp=self.tmp)
        r = validate(rendered, values_json)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("values/ports/http", r.stderr)
        self.assertIn("values/probes/type", r.stderr)
        self.assertIn("containerPort must be integer", r.stderr)  # the schema of the Deployment too
        broken_object = os.path.join(self.tmp, "broken-object.yaml")
        with open(broken_object, "w") as f:
            f.write("resources:\n  limits:\n    memory: [4]\n")
        _, rendered, values_json, _ = render(broken_object, tmp=self.tmp)
        r = validate(rendered, values_json)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Deployment", r.stderr)

    def _container(self, objects):
        return objects["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]

    def _args(self, container):
        return dict(a[2:].split("=", 1) for a in container["args"] if a.startswith("--") and "=" in a)

    def test_deployment_gives_the_daemon_what_it_expects(self):
        for objects, _, values_json, _ in (self.default, self.custom, self.security):
            with open(values_json) as f:
                values = json.load(f)
            pod = objects["Deployment"][0]["spec"]["template"]["spec"]
            c = self._container(objects)
            args = self._args(c)
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            self.assertEqual(ports, {"http": int(args["http-port"]), "grpc": int(args["grpc-port"]),
                                     "metrics": int(args["metrics-port"])})
            self.assertEqual(args["model-repository"], values["modelRepository"]["mountPath"])
            mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
            self.assertEqual(mounts[values["modelRepository"]["mountPath"]], "models")
            # Read-only root filesystem with a writable /tmp.
            self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
            self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"])
            self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
            self.assertTrue(pod["securityContext"]["runAsNonRoot"])
            self.assertEqual(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault")
            self.assertEqual(mounts["/tmp"], "tmp")
            self.assertIn("emptyDir", [v for v in pod["volumes"] if v["name"] == "tmp"][0])
            # The pod's grace covers the preStop sleep plus the daemon's drain.
            grace = int(args["shutdown-grace-seconds"])
            self.assertEqual(grace, values["modelgate"]["shutdownGraceSeconds"])
            pre_stop = int(c["lifecycle"]["preStop"]["exec"]["command"][-1])
            self.assertGreater(pod["terminationGracePeriodSeconds"], pre_stop + grace)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                self.assertIn(probe, c)

    def test_http_probes_by_default_grpc_probes_by_switch(self):
        c = self._container(self.default[0])
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/v2/health/ready", "port": "http"})
        self.assertEqual(c["startupProbe"]["httpGet"]["path"], "/v2/health/ready")
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/v2/health/live", "port": "http"})
        c = self._container(self.custom[0])
        grpc_port = int(self._args(c)["grpc-port"])
        self.assertEqual(c["readinessProbe"]["grpc"], {"port": grpc_port, "service": ""})
        self.assertEqual(c["livenessProbe"]["grpc"], {"port": grpc_port, "service": "modelgate.liveness"})

    def test_optional_objects_follow_their_switches(self):
        objects = self.custom[0]
        self.assertNotIn("replicas", objects["Deployment"][0]["spec"])  # the HPA owns it
        hpa = objects["HorizontalPodAutoscaler"][0]["spec"]
        self.assertEqual(hpa["scaleTargetRef"]["name"], objects["Deployment"][0]["metadata"]["name"])
        # CPU and the daemon's own in-flight count per pod (prometheus-adapter).
        self.assertEqual([m["type"] for m in hpa["metrics"]], ["Resource", "Pods"])
        self.assertEqual(hpa["metrics"][1]["pods"], {
            "metric": {"name": "modelgate_inflight_requests"},
            "target": {"type": "AverageValue", "averageValue": "6"}})
        # The dashboard ConfigMap under the configured sidecar label; the rules' own labels.
        dashboard = objects["ConfigMap"][0]
        self.assertEqual(dashboard["metadata"]["labels"]["dashboards.example.com/grafana"], "modelgate")
        self.assertIn("modelgate.json", dashboard["data"])
        rule = objects["PrometheusRule"][0]
        self.assertEqual(rule["metadata"]["labels"]["release"], "prometheus")
        self.assertIn("ModelgateP99LatencyHigh", json.dumps(rule["spec"]))
        sm = objects["ServiceMonitor"][0]
        self.assertEqual(sm["spec"]["endpoints"][0]["port"], "metrics")
        self.assertEqual(sm["metadata"]["labels"]["release"], "prometheus")
        pod = objects["Deployment"][0]["spec"]["template"]["spec"]
        models = [v for v in pod["volumes"] if v["name"] == "models"][0]
        self.assertEqual(models["persistentVolumeClaim"]["claimName"], "models-pvc")
        svc_ports = {p["name"] for p in objects["Service"][0]["spec"]["ports"]}
        self.assertEqual(svc_ports, {"http", "grpc", "metrics"})

    def test_listens_on_every_interface_and_passes_only_flags_the_daemon_knows(self):
        flags = daemon_flags()
        self.assertIn("tls-client-ca", flags)  # the parse found the security flags
        probe_help = subprocess.run([sys.executable, HEALTHCHECK, "--help"], capture_output=True,
                                    text=True, check=True).stdout
        probe_flags = set(re.findall(r"--([a-z][a-z-]*)", probe_help))
        for objects, _, _, _ in (self.default, self.custom, self.security):
            c = self._container(objects)
            self.assertEqual(self._args(c)["host"], "0.0.0.0")  # the daemon's default is loopback
            for a in c["args"]:
                self.assertIn(a[2:].split("=", 1)[0], flags, a)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                for a in c[probe].get("exec", {}).get("command", []):
                    if a.startswith("--"):
                        self.assertIn(a[2:].split("=", 1)[0], probe_flags, a)
        c = self._container(self.default[0])
        self.assertFalse([a for a in c["args"] if a.startswith(("--tls", "--auth", "--cors"))])

    def test_security_values_mount_secrets_where_the_flags_point(self):
        objects = self.security[0]
        pod = objects["Deployment"][0]["spec"]["template"]["spec"]
        c = self._container(objects)
        args = self._args(c)
        self.assertEqual(args["cors-allow-origin"], "https://app.example.com,http://localhost:3000")
        mounts = {m["name"]: m for m in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        expected = {"tls-cert": ("modelgate-tls", "tls.crt"), "tls-key": ("modelgate-tls", "tls.key"),
                    "tls-client-ca": ("modelgate-client-ca", "ca.crt"),
                    "auth-tokens": ("modelgate-tokens", "tokens")}
        for flag, (secret, key) in expected.items():
            directory, filename = os.path.split(args[flag])
            mount = [m for m in mounts.values() if m["mountPath"] == directory]
            self.assertEqual(len(mount), 1, flag)
            self.assertTrue(mount[0]["readOnly"])
            self.assertNotIn("subPath", mount[0])  # kubelet updates whole-directory mounts only
            volume = volumes[mount[0]["name"]]["secret"]
            self.assertEqual(volume["secretName"], secret, flag)
            self.assertEqual(volume["defaultMode"], 0o440, flag)
            self.assertIn({"key": key, "path": filename}, volume["items"], flag)
        # Mutual TLS: exec probes that speak TLS and present the pod's certificate.
        for probe, path in (("startupProbe", "/v2/health/ready"), ("readinessProbe", "/v2/health/ready"),
                            ("livenessProbe", "/v2/health/live")):
            cmd = c[probe]["exec"]["command"]
            self.assertEqual(cmd[:2], ["/usr/bin/python3", "/usr/local/share/modelgate/healthcheck.py"])
            self.assertIn(f"--path={path}", cmd)
            self.assertIn("--tls", cmd)
            self.assertIn(f"--client-cert={args['tls-cert']}", cmd)
            self.assertIn(f"--client-key={args['tls-key']}", cmd)
        sm = objects["ServiceMonitor"][0]["spec"]["endpoints"][0]
        self.assertEqual(sm["scheme"], "https")
        self.assertIn("Authorization: Bearer", self.security[3])
        self.assertIn("https://", self.security[3])

    def test_tls_without_mutual_keeps_http_probes_over_https(self):
        values = os.path.join(self.tmp, "tls-only.yaml")
        with open(values, "w") as f:
            f.write("tls:\n  enabled: true\n  secretName: modelgate-tls\n")
        objects, rendered, values_json, _ = render(values, tmp=self.tmp)
        self.assertEqual(validate(rendered, values_json).returncode, 0)
        c = self._container(objects)
        self.assertEqual(c["readinessProbe"]["httpGet"],
                         {"path": "/v2/health/ready", "port": "http", "scheme": "HTTPS"})
        self.assertEqual(c["livenessProbe"]["httpGet"]["scheme"], "HTTPS")
        self.assertNotIn("tls-client-ca", self._args(c))

    def test_security_values_that_cannot_work_fail_with_the_reason(self):
        cases = (
            ("tls:\n  enabled: true\n  secretName: s\nprobes:\n  type: grpc\n",
             "probes.type grpc cannot check a TLS port", "values/probes/type"),
            ("tls:\n  enabled: true\n  secretName: s\n  mutual: true\n",
             "tls.mutual needs probes.type exec", "values/probes/type"),
            ("tls:\n  mutual: true\nprobes:\n  type: exec\n", "tls.mutual needs tls.enabled",
             "values/tls/enabled"),
            ("tls:\n  enabled: true\n", "tls.secretName is required", "values/tls"),
            ("auth:\n  enabled: true\n", "auth.secretName is required", "values/auth"),
            ("cors:\n  allowOrigins: [\"https://a.example/\"]\n", "", "values/cors/allowOrigins/0"),
            ("autoscaling:\n  enabled: true\n  targetCPUUtilizationPercentage: 0\n",
             "autoscaling.enabled needs targetCPUUtilizationPercentage or customMetric.name",
             "values/autoscaling/customMetric/name"),
            ("autoscaling:\n  customMetric:\n    name: modelgate_requests_total\n", "",
             "values/autoscaling/customMetric/name"),
            ("prometheusRule:\n  errorRatio: 5\n  p99For: soon\n", "",
             "values/prometheusRule/errorRatio"),
        )
        for values, render_error, schema_error in cases:
            rendered_error, schema = render_failure(values, self.tmp)
            self.assertIn(render_error, rendered_error, values)
            self.assertIn(schema_error, schema, values)

    def test_notes_render(self):
        self.assertIn("drain for 25 s", self.default[3])
        self.assertIn("terminationGracePeriodSeconds is 40", self.default[3])

    def test_configmap_models_are_served_by_the_real_daemon(self):
        """Lay the ConfigMap out as the Deployment mounts it; the daemon serves it."""
        from daemon import Daemon, request
        objects = self.default[0]
        data = objects["ConfigMap"][0]["data"]
        pod = objects["Deployment"][0]["spec"]["template"]["spec"]
        items = [v for v in pod["volumes"] if v["name"] == "models"][0]["configMap"]["items"]
        repo = tempfile.mkdtemp(prefix="modelgate-cm-repo-")
        os.chmod(repo, 0o755)  # workers run as an unprivileged user when we are root
        for item in items:
            path = os.path.join(repo, item["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(data[item["key"]])
        d = Daemon(repo)
        try:
            d.wait_ready()
            status, _, body = request("POST", d.base + "/v2/models/describe/infer", {"inputs": [
                {"name": "x", "datatype": "FP64", "shape": [3], "data": [1, 2, 6]}]})
            self.assertEqual(status, 200, body)
            self.assertEqual({o["name"]: o["data"][0] for o in body["outputs"]}["mean"], 3.0)
        finally:
            d.cleanup()


class SystemdAndDockerTest(unittest.TestCase):
    def test_systemd_unit_leaves_the_bind_to_its_environment_file_and_is_hardened(self):
        with open(os.path.join(SOURCE, "deploy", "systemd", "modelgate.service")) as f:
            unit = f.read()
        exec_start = re.search(r"^ExecStart=((?:.*\\\n)*.*)$", unit, re.M).group(1)
        self.assertNotIn("--host", exec_start)  # loopback unless modelgate.env says otherwise
        self.assertNotIn("--bridge-dir", exec_start)  # the installed daemon finds its runtimes
        self.assertIn("EnvironmentFile=-/etc/modelgate/modelgate.env", unit)
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", unit)
        for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                     "CapabilityBoundingSet=", "RestrictSUIDSGID=yes", "UMask=0077", "User=modelgate"):
            self.assertIn(f"\n{line}\n", unit)
        with open(os.path.join(SOURCE, "deploy", "systemd", "modelgate.sysusers")) as f:
            self.assertRegex(f.read(), r"(?m)^u modelgate ")
        # Every variable the example environment file names is a daemon flag.
        flags = daemon_flags()
        with open(os.path.join(SOURCE, "deploy", "systemd", "modelgate.env")) as f:
            names = re.findall(r"^#?MODELGATE_([A-Z_]+)=", f.read(), re.M)
        self.assertGreaterEqual(len(names), 6)
        for name in names:
            self.assertIn(name.lower().replace("_", "-"), flags, name)

    def test_systemd_unit_verifies(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        with open(os.path.join(SOURCE, "deploy", "systemd", "modelgate.service")) as f:
            unit = f.read()
        self.assertIn("TimeoutStopSec=45", unit)
        grace = int(re.search(r"--shutdown-grace-seconds=(\d+)", unit).group(1))
        self.assertGreater(45, grace)  # systemd must outwait the drain
        # Verify a copy whose ExecStart names the binary this build produced.
        tmp = tempfile.mkdtemp()
        with open(os.path.join(tmp, "modelgate.service"), "w") as f:
            f.write(unit.replace("/usr/local/bin/modelgate", os.environ["MODELGATE_BINARY"]))
        r = subprocess.run(["systemd-analyze", "verify", os.path.join(tmp, "modelgate.service")],
                           capture_output=True, text=True)
        shutil.rmtree(tmp)
        problems = [l for l in (r.stdout + r.stderr).splitlines() if "modelgate.service" in l]
        self.assertEqual(problems, [], r.stdout + r.stderr)

    def test_dockerfile_installs_package_groups_that_exist(self):
        with open(os.path.join(SOURCE, "scripts", "packages.txt")) as f:
            groups = set(re.findall(r"^\[([\w-]+)\]", f.read(), re.M))
        with open(os.path.join(SOURCE, "deploy", "docker", "Dockerfile")) as f:
            dockerfile = f.read()
        used = set()
        for line in re.findall(r"^RUN \S*install-deps\.sh ([\w -]+)", dockerfile, re.M):
            used.update(line.split())
        self.assertEqual(used, {"build", "runtime", "runtime-libs"})
        self.assertTrue(used <= groups, used - groups)
        # The runtime stage takes the installed layout, nothing from the build tree.
        self.assertIn("cmake --install /build", dockerfile)
        self.assertNotRegex(dockerfile, r"COPY --from=build /build")
        for required in ("USER 10001", "STOPSIGNAL SIGTERM", "HEALTHCHECK", "EXPOSE 8000 8001 8002",
                         "MODELGATE_HOST=0.0.0.0",
                         "COPY deploy/docker/healthcheck.py /usr/local/share/modelgate/healthcheck.py",
                         'CMD ["/usr/bin/python3", "/usr/local/share/modelgate/healthcheck.py"]'):
            self.assertIn(required, dockerfile)

    def test_healthcheck_script_probes_the_real_daemon(self):
        from daemon import Daemon, free_ports, make_repository
        d = Daemon(make_repository(examples=(), test_models=("echo_py",)))
        try:
            d.wait_ready()
            env = {k: v for k, v in os.environ.items() if not k.startswith("MODELGATE_")}
            probe = lambda *a, **e: subprocess.run([sys.executable, HEALTHCHECK, *a], capture_output=True,
                                                  text=True, env={**env, **e}, timeout=30)
            self.assertEqual(probe("--port", str(d.http_port)).returncode, 0)
            self.assertEqual(probe(MODELGATE_HTTP_PORT=str(d.http_port)).returncode, 0)  # the env, as in the image
            self.assertEqual(probe("--port", str(d.http_port), "--path", "/v2/health/live").returncode, 0)
            r = probe("--port", str(d.http_port), "--path", "/v2/nothing")
            self.assertEqual(r.returncode, 1)
            self.assertIn("404", r.stderr)
            self.assertEqual(probe("--port", str(free_ports(1)[0])).returncode, 1)
        finally:
            d.cleanup()


if __name__ == "__main__":
    unittest.main()
