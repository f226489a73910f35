"""Health probe for the container (HEALTHCHECK) and the chart's exec probes.

GETs a health path on the daemon's local REST port and exits 0 on 200, 1
otherwise. Speaks HTTPS when the daemon serves TLS and presents a client
certificate when it requires one (mutual TLS), which Kubernetes' own HTTP and
gRPC probes cannot do. The probe trusts the daemon it runs beside: it talks to
127.0.0.1 and does not verify the server certificate.

Settings come from the flags, else from the daemon's own environment
(MODELGATE_HTTP_PORT, MODELGATE_TLS_CERT, MODELGATE_TLS_KEY,
MODELGATE_TLS_CLIENT_CA): with a client CA set, the daemon's certificate and
key are presented as the client identity, so the CA must have signed them.
"""

import argparse
import os
import ssl
import sys
import urllib.request


def main():
    env = os.environ.get
    mutual = bool(env("MODELGATE_TLS_CLIENT_CA"))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=int(env("MODELGATE_HTTP_PORT", "8000")))
    p.add_argument("--path", default="/v2/health/ready")
    p.add_argument("--tls", action="store_true", default=bool(env("MODELGATE_TLS_CERT")),
                   help="use HTTPS")
    p.add_argument("--client-cert", default=env("MODELGATE_TLS_CERT") if mutual else None)
    p.add_argument("--client-key", default=env("MODELGATE_TLS_KEY") if mutual else None)
    p.add_argument("--timeout", type=float, default=2.0)
    a = p.parse_args()
    context = None
    if a.tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if a.client_cert:
            context.load_cert_chain(a.client_cert, a.client_key)
    url = f"{'https' if a.tls else 'http'}://127.0.0.1:{a.port}{a.path}"
    try:
        with urllib.request.urlopen(url, timeout=a.timeout, context=context) as r:
            return 0 if r.status == 200 else 1
    except Exception as e:  # any failure is "unhealthy"; say why for `docker inspect`
        print(f"{url}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
