"""What berth keeps per TLS upstream after its connections are gone: the session it may resume, and no more than a
few KiB of it, however large a certificate chain the origin sent (a chain is not needed to resume); a session over
8 KiB encoded (a huge leaf certificate) is not kept at all.

One hostile origin reached at many ports (each its own upstream) sends a ~90 KB chain; berth's RSS is read from
/proc before and after one request to each.
"""
import subprocess

from berthkit import RawClient, RawOrigin, get_req, upstream_stats
from berthkit.tls_wire import TLSWire, server_context

UPSTREAMS = 120


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))


def fat_chain(pki, tmp_path):
    """The localhost leaf followed by 11 copies of a self-signed certificate carrying an ~8 KB comment: ~90 KB of DER,
    under OpenSSL's 100 KB limit for a peer's chain. Extra certificates are allowed in a chain; verification ignores
    the ones that lead nowhere."""
    extra, extra_key = tmp_path / "fat.pem", tmp_path / "fat.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(extra_key), "-out", str(extra), "-days", "2", "-subj", "/CN=padding",
                    "-addext", "nsComment=" + "A" * 7900], check=True, capture_output=True, timeout=60)
    chain = tmp_path / "chain.pem"
    with open(pki.server) as leaf:
        chain.write_text(leaf.read() + extra.read_text() * 11)
    return str(chain)


def test_a_huge_certificate_chain_is_not_kept_per_upstream(berth_with, pki, tmp_path):
    ctx = server_context(fat_chain(pki, tmp_path), pki.server_key)

    def serve(conn):
        w = TLSWire(conn.sock, ctx)
        w.handshake()
        if w.read_request() is not None:
            w.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.sock.sendall(w.close_notify())

    origins = [RawOrigin(serve) for _ in range(UPSTREAMS)]
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
        before = rss_kib(b.pid)
        for o in origins:
            c = RawClient(b.proxy, timeout=10)
            try:
                assert c.request(get_req(o.hostport, "/")).body == b"ok"
            finally:
                c.close()
        grown = (rss_kib(b.pid) - before) / UPSTREAMS
        # Before the fix each upstream kept its session object with the parsed chain: ~230 KiB. A plain-chain TLS
        # upstream costs ~10 KiB; the bound leaves room for the allocator's slack.
        assert grown < 60, f"{grown:.0f} KiB kept per upstream"
        # What is kept still resumes: the second connection to an upstream skips the certificate exchange.
        c = RawClient(b.proxy, timeout=10)
        try:
            assert c.request(get_req(origins[0].hostport, "/again")).body == b"ok"
        finally:
            c.close()
        assert upstream_stats(b, f"https://{origins[0].hostport}")["tls"]["handshakes_resumed"] == 1
    finally:
        for o in origins:
            o.close()


def test_a_session_over_8_kib_is_not_kept(berth_with, pki, tmp_path):
    # The localhost key re-certified with a 9,000-byte comment: the leaf alone is over the bound, so every
    # connection does a full handshake, and every answer is still right.
    csr, ext, leaf = tmp_path / "big.csr", tmp_path / "big.ext", tmp_path / "big.pem"
    subprocess.run(["openssl", "req", "-new", "-key", pki.server_key, "-out", str(csr), "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nnsComment=" + "B" * 9000 + "\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", pki.ca, "-CAkey", pki.ca_key, "-CAcreateserial",
                    "-days", "2", "-out", str(leaf), "-extfile", str(ext)], check=True, capture_output=True, timeout=60)
    ctx = server_context(str(leaf), pki.server_key)

    def serve(conn):
        w = TLSWire(conn.sock, ctx)
        w.handshake()
        if w.read_request() is not None:
            w.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            conn.sock.sendall(w.close_notify())

    origin = RawOrigin(serve)
    try:
        b = berth_with(f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
        for _ in range(3):
            c = RawClient(b.proxy, timeout=10)
            try:
                assert c.request(get_req(origin.hostport, "/")).body == b"ok"
            finally:
                c.close()
        tls = upstream_stats(b, f"https://{origin.hostport}")["tls"]
        assert tls == {"handshakes_full": 3, "handshakes_resumed": 0, "handshake_failures": 0}
    finally:
        origin.close()
