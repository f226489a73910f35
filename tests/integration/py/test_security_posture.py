"""Security posture against the real daemon: loopback default bind, bearer
tokens (401/403/200 per scope on REST and gRPC, health open, SIGHUP reload),
CORS, gRPC TLS and mutual TLS with certificates made here by the openssl CLI."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

import grpc

import grpc_predict_v2_pb2 as pb
import grpc_predict_v2_pb2_grpc as pb_grpc
import health_pb2
import health_pb2_grpc
from daemon import BINARY, PYTHON, Daemon, free_ports, make_repository, request

INFER_TOKEN = "infer-token-4f9c2e7a1b"
ADMIN_TOKEN = "admin-token-9d3e6b0c5a"
NEW_TOKEN = "rotated-token-0a1b2c3d4e"
ORIGIN = "https://app.example.com"
X = [{"name": "x", "datatype": "FP64", "shape": [2], "data": [1.5, 2.5]}]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def write_tokens(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def listening_addresses(port):
    """Local addresses (hex, as in /proc/net/tcp*) of LISTEN sockets on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                addr, hex_port = fields[1].split(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: TCP_LISTEN
                    found.append(addr)
    return found


# 127.0.0.1 as /proc/net/tcp writes it, and as an IPv4-mapped IPv6 address
# (gRPC may listen on a v6 socket bound to ::ffff:127.0.0.1).
LOOPBACK = ("0100007F", "0000000000000000FFFF00000100007F")


class DefaultBindTest(unittest.TestCase):
    """Without --host every listener is on 127.0.0.1 only."""

    def start(self, *host_args):
        repo = make_repository(examples=(), test_models=("echo_py",))
        http_port, grpc_port, metrics_port = free_ports(3)
        log = tempfile.TemporaryFile()
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [BINARY, "--model-repository", repo, "--http-port", str(http_port),
             "--grpc-port", str(grpc_port), "--metrics-port", str(metrics_port),
             *host_args], stdout=log, stderr=subprocess.STDOUT)

        def stop():
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(repo, ignore_errors=True)
        self.addCleanup(stop)
        ports = (http_port, grpc_port, metrics_port)
        wait_until(lambda: proc.poll() is not None or all(listening_addresses(p) for p in ports),
                   60, "all three listeners open")
        self.assertIsNone(proc.poll(), "daemon exited")
        self.log, self.proc = log, proc
        return ports

    def log_text(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def test_without_host_every_listener_is_loopback_only(self):
        for port in self.start():
            addresses = listening_addresses(port)
            self.assertTrue(addresses, f"port {port}")
            for a in addresses:
                self.assertIn(a, LOOPBACK, f"port {port}")
        wait_until(lambda: "security tls=off" in self.log_text(), 30, "the start-up lines")
        self.assertNotIn("reachable from other machines", self.log_text())
        # SIGHUP (systemctl reload) with nothing to reload leaves the daemon running.
        self.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: no auth token file to reload" in self.log_text(), 30, "SIGHUP seen")
        self.assertIsNone(self.proc.poll())

    def test_explicit_host_0_0_0_0_binds_every_interface(self):
        # The check above can fail: the same daemon told --host 0.0.0.0 binds
        # the wildcard address (nothing is sent off the machine).
        for port in self.start("--host", "0.0.0.0"):
            addresses = listening_addresses(port)
            self.assertTrue(addresses, f"port {port}")
            for a in addresses:  # gRPC may take the dual-stack wildcard [::]
                self.assertIn(a, ("00000000", "0" * 32), f"port {port}")
        # ... and says that without tokens anyone who reaches it may unload models.
        wait_until(lambda: "listening beyond loopback without --auth-tokens" in self.log_text(), 30,
                   "the warning")


class AuthAndCorsTest(unittest.TestCase):
    """One daemon with a token file and one allowed CORS origin."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="modelgate-auth-")
        cls.tokens = os.path.join(cls.tmp, "tokens")
        write_tokens(cls.tokens, f"# test tokens\n{INFER_TOKEN} infer\n{ADMIN_TOKEN} admin\n")
        cls.d = Daemon(make_repository(examples=(), test_models=("echo_py",)),
                       ["--auth-tokens", cls.tokens, "--cors-allow-origin", ORIGIN,
                        "--model-control-mode", "explicit"])
        cls.d.wait_ready()  # /v2/health/ready needs no token
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{cls.d.grpc_port}")
        cls.stub = pb_grpc.GRPCInferenceServiceStub(cls.channel)
        wait_until(lambda: request("GET", cls.d.base + "/v2/models/echo_py/ready",
                                   headers=bearer(INFER_TOKEN))[0] == 200, 60, "echo_py ready")

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def infer(self, headers=None):
        return request("POST", self.d.base + "/v2/models/echo_py/infer", {"inputs": X},
                       headers=headers)

    def assert_denied(self, result, status, error_fragment, challenge):
        code, hdrs, body = result
        self.assertEqual(code, status, body)
        self.assertIn(error_fragment, body["error"])
        for token in (INFER_TOKEN, ADMIN_TOKEN):
            self.assertNotIn(token, json.dumps(body))
        self.assertEqual(hdrs.get("WWW-Authenticate"), challenge)

    # --- REST ---------------------------------------------------------------

    def test_health_and_readiness_stay_open(self):
        for path in ("/v2/health/live", "/v2/health/ready"):
            self.assertEqual(request("GET", self.d.base + path)[0], 200, path)

    def test_infer_and_metadata_need_the_infer_scope(self):
        for path, method, body in (("/v2/models/echo_py/infer", "POST", {"inputs": X}),
                                   ("/v2/models/echo_py", "GET", None),
                                   ("/v2/models/echo_py/ready", "GET", None),
                                   ("/v2", "GET", None),
                                   ("/v1/models/echo_py", "GET", None)):
            url = self.d.base + path
            self.assert_denied(request(method, url, body), 401, "authentication required",
                               'Bearer realm="modelgate"')
            self.assert_denied(request(method, url, body, headers=bearer("not-a-known-token")), 401,
                               "invalid credential", 'Bearer realm="modelgate", error="invalid_token"')
            self.assert_denied(request(method, url, body, headers={"Authorization": f"Basic {INFER_TOKEN}"}),
                               401, "invalid credential", 'Bearer realm="modelgate", error="invalid_token"')
            for token in (INFER_TOKEN, ADMIN_TOKEN):  # admin implies infer
                status, _, answer = request(method, url, body, headers=bearer(token))
                self.assertEqual(status, 200, (path, answer))
        status, _, answer = self.infer(bearer(INFER_TOKEN))
        self.assertEqual([o["data"] for o in answer["outputs"] if o["name"] == "y"], [[1.5, 2.5]])

    def test_an_unknown_model_is_not_revealed_without_a_token(self):
        self.assertEqual(request("GET", self.d.base + "/v2/models/secret_model")[0], 401)
        self.assertEqual(request("GET", self.d.base + "/v2/models/secret_model",
                                 headers=bearer(INFER_TOKEN))[0], 404)

    def test_repository_api_needs_admin(self):
        base = self.d.base + "/v2/repository"
        self.assert_denied(request("POST", base + "/index"), 401, "scope 'admin'",
                           'Bearer realm="modelgate"')
        for path in ("/index", "/models/echo_py/unload", "/models/echo_py/load"):
            self.assert_denied(request("POST", base + path, headers=bearer(INFER_TOKEN)), 403,
                               "lacks scope 'admin'",
                               'Bearer realm="modelgate", error="insufficient_scope", scope="admin"')
        self.assertEqual(self.infer(bearer(INFER_TOKEN))[0], 200)  # the denied unload did nothing
        status, _, index = request("POST", base + "/index", headers=bearer(ADMIN_TOKEN))
        self.assertEqual(status, 200)
        self.assertEqual([m["name"] for m in index], ["echo_py"])
        self.assertEqual(request("POST", base + "/models/echo_py/unload", headers=bearer(ADMIN_TOKEN))[0], 200)
        self.assertEqual(self.infer(bearer(INFER_TOKEN))[0], 503)
        self.assertEqual(request("POST", base + "/models/echo_py/load", headers=bearer(ADMIN_TOKEN))[0], 200)
        wait_until(lambda: self.infer(bearer(INFER_TOKEN))[0] == 200, 60, "echo_py serves again")

    def test_failed_checks_are_counted_by_reason(self):
        def failures():
            with urllib.request.urlopen(f"http://127.0.0.1:{self.d.metrics_port}/metrics", timeout=10) as r:
                text = r.read().decode()
            out = {}
            for line in text.splitlines():
                if line.startswith("modelgate_auth_failures_total{"):
                    reason = line.split('reason="')[1].split('"')[0]
                    out[reason] = float(line.split()[-1])
            return out
        before = failures()
        self.assertEqual(set(before), {"missing_token", "invalid_token", "insufficient_scope"})
        self.infer()
        self.infer()
        self.infer(bearer("nope-nope-nope-nope"))
        request("POST", self.d.base + "/v2/repository/index", headers=bearer(INFER_TOKEN))
        self.assertEqual(self.stub_call(self.stub.ModelMetadata, pb.ModelMetadataRequest(name="echo_py")),
                         grpc.StatusCode.UNAUTHENTICATED)
        after = failures()
        self.assertEqual(after["missing_token"] - before["missing_token"], 3)
        self.assertEqual(after["invalid_token"] - before["invalid_token"], 1)
        self.assertEqual(after["insufficient_scope"] - before["insufficient_scope"], 1)

    # --- gRPC ---------------------------------------------------------------

    def stub_call(self, method, message, token=None):
        """The status code of one call (OK when it succeeds)."""
        metadata = [("authorization", f"Bearer {token}")] if token else None
        try:
            method(message, metadata=metadata, timeout=30)
            return grpc.StatusCode.OK
        except grpc.RpcError as e:
            for t in (INFER_TOKEN, ADMIN_TOKEN):
                self.assertNotIn(t, e.details() or "")
            return e.code()

    def test_grpc_health_stays_open(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest(), timeout=30).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest(), timeout=30).ready)
        health = health_pb2_grpc.HealthStub(self.channel)
        resp = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
        self.assertEqual(resp.status, health_pb2.HealthCheckResponse.SERVING)

    def test_grpc_calls_need_the_infer_scope(self):
        infer = pb.ModelInferRequest(model_name="echo_py")
        infer.inputs.add(name="x", datatype="FP64", shape=[2]).contents.fp64_contents.extend([1, 2])
        calls = ((self.stub.ModelInfer, infer),
                 (self.stub.ModelMetadata, pb.ModelMetadataRequest(name="echo_py")),
                 (self.stub.ModelReady, pb.ModelReadyRequest(name="echo_py")),
                 (self.stub.ServerMetadata, pb.ServerMetadataRequest()))
        for method, message in calls:
            self.assertEqual(self.stub_call(method, message), grpc.StatusCode.UNAUTHENTICATED)
            self.assertEqual(self.stub_call(method, message, "not-a-known-token"),
                             grpc.StatusCode.UNAUTHENTICATED)
            self.assertEqual(self.stub_call(method, message, INFER_TOKEN), grpc.StatusCode.OK)
            self.assertEqual(self.stub_call(method, message, ADMIN_TOKEN), grpc.StatusCode.OK)
        try:
            self.stub.ModelInfer(infer, timeout=30)
            self.fail("ModelInfer without a token succeeded")
        except grpc.RpcError as e:
            self.assertIn("authorization metadata", e.details())

    # --- SIGHUP reload --------------------------------------------------------

    def test_sighup_rereads_the_token_file_and_keeps_tokens_on_a_bad_file(self):
        try:
            write_tokens(self.tokens, f"{NEW_TOKEN} infer\n{ADMIN_TOKEN} admin\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: self.infer(bearer(NEW_TOKEN))[0] == 200, 30, "the new token works")
            self.assertEqual(self.infer(bearer(INFER_TOKEN))[0], 401)  # revoked
            write_tokens(self.tokens, f"{NEW_TOKEN} superuser\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "auth tokens kept" in self.d.log(), 30, "the bad file is reported")
            self.assertIn(f"{self.tokens}:1: unknown scope", self.d.log())
            self.assertEqual(self.infer(bearer(NEW_TOKEN))[0], 200)  # old table still in force
            self.assertIsNone(self.d.proc.poll())
        finally:
            write_tokens(self.tokens, f"{INFER_TOKEN} infer\n{ADMIN_TOKEN} admin\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: self.infer(bearer(INFER_TOKEN))[0] == 200, 30, "tokens restored")

    def test_a_changed_token_file_is_picked_up_without_sighup(self):
        # As when kubelet updates a mounted Secret: a new file renamed into place.
        try:
            write_tokens(self.tokens + ".new", f"{NEW_TOKEN} infer\n{ADMIN_TOKEN} admin\n")
            os.replace(self.tokens + ".new", self.tokens)
            wait_until(lambda: self.infer(bearer(NEW_TOKEN))[0] == 200, 30, "the new token works")
            self.assertEqual(self.infer(bearer(INFER_TOKEN))[0], 401)
        finally:
            write_tokens(self.tokens, f"{INFER_TOKEN} infer\n{ADMIN_TOKEN} admin\n")
            self.d.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: self.infer(bearer(INFER_TOKEN))[0] == 200, 30, "tokens restored")

    # --- CORS -----------------------------------------------------------------

    def test_preflight_needs_no_token_and_answers_allowed_origins(self):
        status, hdrs, _ = request("OPTIONS", self.d.base + "/v2/models/echo_py/infer", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(status, 204)
        self.assertEqual(hdrs["Access-Control-Allow-Origin"], ORIGIN)
        self.assertEqual(hdrs["Vary"], "Origin")
        self.assertIn("POST", hdrs["Access-Control-Allow-Methods"])
        allowed = [h.strip().lower() for h in hdrs["Access-Control-Allow-Headers"].split(",")]
        for h in ("authorization", "content-type", "x-request-id", "inference-header-content-length"):
            self.assertIn(h, allowed)
        self.assertGreater(int(hdrs["Access-Control-Max-Age"]), 0)
        # Any route, even one that does not exist.
        self.assertEqual(request("OPTIONS", self.d.base + "/anything", headers={"Origin": ORIGIN})[0], 204)

    def test_other_origins_get_no_cors_headers(self):
        status, hdrs, _ = request("OPTIONS", self.d.base + "/v2/models/echo_py/infer", headers={
            "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 204)
        self.assertFalse([h for h in hdrs if h.lower().startswith("access-control-")], hdrs)
        status, hdrs, _ = self.infer({**bearer(INFER_TOKEN), "Origin": "https://evil.example.com"})
        self.assertEqual(status, 200)  # CORS is the browser's rule; the server only withholds headers
        self.assertNotIn("Access-Control-Allow-Origin", hdrs)

    def test_answers_to_an_allowed_origin_carry_cors_headers_even_when_denied(self):
        status, hdrs, _ = self.infer({**bearer(INFER_TOKEN), "Origin": ORIGIN})
        self.assertEqual(status, 200)
        self.assertEqual(hdrs["Access-Control-Allow-Origin"], ORIGIN)
        self.assertIn("x-request-id", hdrs["Access-Control-Expose-Headers"])
        status, hdrs, _ = self.infer({"Origin": ORIGIN})
        self.assertEqual(status, 401)  # so the page can read why
        self.assertEqual(hdrs["Access-Control-Allow-Origin"], ORIGIN)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(cwd, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
            cwd=cwd)


def make_cert(cwd, name, ca, extensions):
    """A key and certificate `name` signed by `ca`."""
    with open(os.path.join(cwd, f"{name}.ext"), "w") as f:
        f.write(extensions)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=cwd)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=cwd)


SERVER_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
CLIENT_EXT = "extendedKeyUsage=clientAuth\n"


class GrpcTlsTest(unittest.TestCase):
    """gRPC over TLS and mutual TLS; certificates made here with openssl."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="modelgate-tls-")
        make_ca(cls.tmp, "ca")
        make_ca(cls.tmp, "other-ca")
        make_cert(cls.tmp, "server", "ca", SERVER_EXT)
        make_cert(cls.tmp, "client", "ca", CLIENT_EXT)
        make_cert(cls.tmp, "stranger", "other-ca", CLIENT_EXT)
        cls.daemons = []

    @classmethod
    def tearDownClass(cls):
        for d in cls.daemons:
            d.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def read(self, name):
        with open(os.path.join(self.tmp, name), "rb") as f:
            return f.read()

    def start(self, *extra, identity="server"):
        """A TLS daemon serving the certificate and key `identity`.{pem,key}."""
        d = Daemon(make_repository(examples=(), test_models=("echo_py",)),
                   ["--tls-cert", os.path.join(self.tmp, f"{identity}.pem"),
                    "--tls-key", os.path.join(self.tmp, f"{identity}.key"), *extra])
        self.daemons.append(d)
        return d

    def channel(self, d, root="ca.pem", client=None):
        creds = grpc.ssl_channel_credentials(
            root_certificates=self.read(root),
            private_key=self.read(f"{client}.key") if client else None,
            certificate_chain=self.read(f"{client}.pem") if client else None)
        ch = grpc.secure_channel(f"127.0.0.1:{d.grpc_port}", creds,
                                 options=[("grpc.ssl_target_name_override", "localhost")])
        self.addCleanup(ch.close)
        return ch

    def live(self, ch, timeout=5):
        """ServerLive's status code on channel `ch`."""
        try:
            pb_grpc.GRPCInferenceServiceStub(ch).ServerLive(pb.ServerLiveRequest(), timeout=timeout)
            return grpc.StatusCode.OK
        except grpc.RpcError as e:
            return e.code()

    def wait_tls_ready(self, d, **channel_args):
        wait_until(lambda: d.proc.poll() is not None or self.live(self.channel(d, **channel_args), 2)
                   == grpc.StatusCode.OK, 60, "gRPC answers over TLS")
        self.assertIsNone(d.proc.poll(), d.log()[-2000:])

    def test_tls_serves_trusting_clients_and_refuses_plaintext(self):
        d = self.start()
        self.wait_tls_ready(d)
        ch = self.channel(d)
        stub = pb_grpc.GRPCInferenceServiceStub(ch)
        wait_until(lambda: stub.ModelReady(pb.ModelReadyRequest(name="echo_py"), timeout=10).ready,
                   60, "echo_py ready")
        req = pb.ModelInferRequest(model_name="echo_py")
        req.inputs.add(name="x", datatype="FP64", shape=[2]).contents.fp64_contents.extend([3, 4])
        resp = stub.ModelInfer(req, timeout=30)
        self.assertEqual([list(o.contents.fp64_contents) for o in resp.outputs if o.name == "y"], [[3, 4]])
        plain = grpc.insecure_channel(f"127.0.0.1:{d.grpc_port}")
        self.addCleanup(plain.close)
        self.assertEqual(self.live(plain), grpc.StatusCode.UNAVAILABLE)
        # A client that does not trust the server's CA refuses it.
        self.assertEqual(self.live(self.channel(d, root="other-ca.pem")), grpc.StatusCode.UNAVAILABLE)

    def test_mutual_tls_requires_a_client_certificate_from_the_ca(self):
        d = self.start("--tls-client-ca", os.path.join(self.tmp, "ca.pem"))
        self.wait_tls_ready(d, client="client")
        self.assertEqual(self.live(self.channel(d, client="client")), grpc.StatusCode.OK)
        self.assertEqual(self.live(self.channel(d)), grpc.StatusCode.UNAVAILABLE)  # no client cert
        self.assertEqual(self.live(self.channel(d, client="stranger")), grpc.StatusCode.UNAVAILABLE)
        plain = grpc.insecure_channel(f"127.0.0.1:{d.grpc_port}")
        self.addCleanup(plain.close)
        self.assertEqual(self.live(plain), grpc.StatusCode.UNAVAILABLE)

    def test_rotated_certificate_serves_new_connections(self):
        # The daemon reads its identity from live.*; rotation replaces them.
        for ext in ("pem", "key"):
            shutil.copy(os.path.join(self.tmp, f"server.{ext}"), os.path.join(self.tmp, f"live.{ext}"))
        d = self.start(identity="live")
        self.wait_tls_ready(d)
        make_ca(self.tmp, "new-ca")
        make_cert(self.tmp, "rotated", "new-ca", SERVER_EXT)
        # Replace key and certificate by rename, as a Secret update does.
        for ext in ("key", "pem"):
            os.replace(os.path.join(self.tmp, f"rotated.{ext}"), os.path.join(self.tmp, f"live.{ext}.new"))
            os.replace(os.path.join(self.tmp, f"live.{ext}.new"), os.path.join(self.tmp, f"live.{ext}"))
        d.proc.send_signal(signal.SIGHUP)
        # gRPC re-reads the files every 10 s: bounded wait for the new identity.
        wait_until(lambda: self.live(self.channel(d, root="new-ca.pem"), 2) == grpc.StatusCode.OK,
                   40, "new connections get the rotated certificate")
        self.assertEqual(self.live(self.channel(d, root="ca.pem")), grpc.StatusCode.UNAVAILABLE)
        self.assertIsNone(d.proc.poll())

    def test_healthcheck_probe_speaks_mutual_tls_to_rest(self):
        d = self.start("--tls-client-ca", os.path.join(self.tmp, "ca.pem"))
        self.wait_tls_ready(d, client="client")
        try:
            plain = request("GET", d.base + "/v2/health/live", timeout=5)[0]
        except Exception:
            plain = None
        if plain == 200:
            # TODO(coordinator): REST TLS comes from the "http" helper; once
            # merged, REST refuses plaintext here and this test runs.
            self.skipTest("REST does not speak TLS in this build")
        script = os.path.join(os.environ["MODELGATE_SOURCE_DIR"], "deploy", "docker", "healthcheck.py")
        probe = lambda *a: subprocess.run([PYTHON, script, "--port", str(d.http_port), "--tls", *a],
                                          capture_output=True, text=True, timeout=30).returncode
        wait_until(lambda: probe("--client-cert", os.path.join(self.tmp, "client.pem"),
                                 "--client-key", os.path.join(self.tmp, "client.key")) == 0,
                   60, "the probe passes with a client certificate")
        self.assertEqual(probe(), 1)  # no client certificate: refused

    def test_bad_tls_flags_stop_the_daemon_at_start_with_a_clear_error(self):
        cases = (
            (["--tls-cert", os.path.join(self.tmp, "server.pem")],
             "--tls-cert is set but --tls-key is not"),
            (["--tls-cert", os.path.join(self.tmp, "server.pem"), "--tls-key", os.path.join(self.tmp, "client.key")],
             "does not match the certificate"),
            (["--tls-cert", os.path.join(self.tmp, "nope.pem"), "--tls-key", os.path.join(self.tmp, "server.key")],
             "nope.pem: cannot read"),
        )
        for args, message in cases:
            r = subprocess.run([BINARY, "--model-repository", self.tmp, *args],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)


if __name__ == "__main__":
    unittest.main()
