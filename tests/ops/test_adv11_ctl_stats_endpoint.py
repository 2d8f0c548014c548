"""adv11: `berth ctl stats HOST:PORT` showed the first upstream of berth's answer only. The admin answers an endpoint
with every pool it has (the plain one and the TLS one `https://HOST:PORT`, and both spellings of a name, `fn` and
`fn.`), so an operator who asked about an upstream during an incident saw its idle plain pool while the traffic and
its errors went through the other, with no hint that anything was left out. Now each is shown, one after another."""
import socket

from ops_helpers import ctl

# A port nothing listens on: each request makes its pool and fails there (502 connect-refused).
PORT = 9


def _send(b, target, host):
    c = socket.create_connection(b.proxy)
    try:
        c.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        c.settimeout(10)
        assert c.recv(100).startswith(b"HTTP/1.1 502"), target
    finally:
        c.close()


def _details(out):
    """The upstreams the detail view shows: the first line of each block."""
    return [line.split("  ")[0] for line in out.splitlines() if "  epoch " in line and not line.startswith(" ")]


def test_every_pool_of_the_endpoint_is_shown(berth):
    b = berth()
    _send(b, f"http://127.0.0.1:{PORT}/", f"127.0.0.1:{PORT}")
    _send(b, f"https://127.0.0.1:{PORT}/", f"127.0.0.1:{PORT}")
    p = ctl("stats", f"127.0.0.1:{PORT}", berth=b)
    assert p.returncode == 0, p.stderr
    assert _details(p.stdout) == [f"127.0.0.1:{PORT}", f"https://127.0.0.1:{PORT}"], p.stdout


def test_both_spellings_of_a_name_are_shown(berth):
    b = berth()
    _send(b, f"http://localhost:{PORT}/", f"localhost:{PORT}")
    _send(b, f"http://localhost.:{PORT}/", f"localhost.:{PORT}")
    p = ctl("stats", f"localhost:{PORT}", berth=b)
    assert p.returncode == 0, p.stderr
    assert _details(p.stdout) == [f"localhost.:{PORT}", f"localhost:{PORT}"], p.stdout
