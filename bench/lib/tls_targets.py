"""The TLS targets of bench/run: berth, HAProxy and nginx reverse-proxying to the upstream nginx's `listen ... ssl`.

Every proxy verifies the upstream's certificate against a CA made for the run (openssl, EC P-256), sends SNI
`localhost` and checks that name, offers ALPN http/1.1, and pools its upstream connections, so the CPU per request
compares pooled TLS against pooled TLS. The `-new` variants open a fresh upstream connection for every request
(berth --max-requests-per-connection 1, HAProxy http-server-close): every request then pays a handshake, which
resumes the cached session, so they measure what pooling saves and what a resumed handshake costs.
"""
import os
import subprocess

import procs
import proxy_start
from berthkit import stats

TARGETS = ("berth-tls", "haproxy-tls", "nginx-tls", "berth-tls-new", "haproxy-tls-new")

PKI = {}     # ca, cert, key paths, made by prepare()
ADMINS = {}  # target -> berth admin port, for the handshake counts


def prepare(work):
    """Makes the run's CA and the upstream's certificate (SAN localhost and 127.0.0.1); returns their paths."""
    d = os.path.join(work, "pki")
    os.makedirs(d, exist_ok=True)
    ca, ca_key, cert, key, csr, ext = (os.path.join(d, n) for n in ("ca.pem", "ca.key", "up.pem", "up.key", "up.csr", "up.ext"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True, timeout=60)
    run("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=berth bench CA")
    run("req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("[ leaf ]\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2", "-out", cert,
        "-extfile", ext, "-extensions", "leaf")
    for p in (d, ca, cert, key):
        os.chmod(p, 0o755 if p == d else 0o644)  # nginx workers run as nobody
    PKI.update(ca=ca, cert=cert, key=key)
    return PKI


def start_berth_tls(work, tls_port, cpu, new_per_request=False):
    name = "berth-tls-new" if new_per_request else "berth-tls"
    conf = os.path.join(work, f"{name}.yaml")
    with open(conf, "w") as f:
        f.write(f"destinations:\n  - match: \"127.0.0.1:{tls_port}\"\n"
                f"    tls: {{ca-file: \"{PKI['ca']}\", server-name: localhost}}\n")
    b = proxy_start.start_berth(work, name, cpu, config=conf,
                                extra=["--max-requests-per-connection", "1"] if new_per_request else [])
    ADMINS[name] = b.admin[1]
    return b.proc, b.proxy[1]


def start_haproxy_tls(work, tls_port, cpu, new_per_request=False):
    name = "haproxy-tls-new" if new_per_request else "haproxy-tls"
    port = procs.free_port()
    reuse = "  option http-server-close\n  http-reuse never\n" if new_per_request else "  http-reuse always\n"
    server = f"127.0.0.1:{tls_port} ssl verify required ca-file {PKI['ca']} sni str(localhost) alpn http/1.1"
    p = proxy_start.start_haproxy(work, name, cpu, port, f"127.0.0.1:{port}", server, reuse=reuse)
    return p, port


def start_nginx_tls(work, tls_port, cpu):
    port = procs.free_port()
    location = "".join(f"      {line};\n" for line in (
        "proxy_ssl_verify on", f"proxy_ssl_trusted_certificate {PKI['ca']}", "proxy_ssl_name localhost",
        "proxy_ssl_server_name on", "proxy_ssl_session_reuse on"))
    os.makedirs(os.path.join(work, "ntls"), exist_ok=True)
    p = proxy_start.start_nginx(work, "nginx-tls", cpu, port, f"127.0.0.1:{port}", f"127.0.0.1:{tls_port}",
                                work + "/ntls", scheme="https", location=location)
    return p, port


PROXIES = {
    "berth-tls": start_berth_tls,
    "haproxy-tls": start_haproxy_tls,
    "nginx-tls": start_nginx_tls,
    "berth-tls-new": lambda w, u, c: start_berth_tls(w, u, c, new_per_request=True),
    "haproxy-tls-new": lambda w, u, c: start_haproxy_tls(w, u, c, new_per_request=True),
}


def handshakes(target):
    """berth's TLS handshake counts and requests for its TLS upstream (from /stats), or None for other targets."""
    admin = ADMINS.get(target)
    if admin is None:
        return None
    totals = stats(("127.0.0.1", admin), timeout=10)["totals"]
    return {"requests": totals["requests"], "connections_opened": totals["connections"]["opened"], **totals["tls"]}


def verdict(summary):
    """berth's CPU per request for pooled TLS against HAProxy's (the issue's done-when), when both ran."""
    b, h = summary.get("berth-tls"), summary.get("haproxy-tls")
    if not b or not h or not b["proxy_cpu_us_per_req"] or not h["proxy_cpu_us_per_req"]:
        return {}
    ratio = b["proxy_cpu_us_per_req"] / h["proxy_cpu_us_per_req"]
    return {"tls_cpu_per_request_vs_haproxy": {"ratio": round(ratio, 3), "target": "< 1", "met": ratio < 1}}
