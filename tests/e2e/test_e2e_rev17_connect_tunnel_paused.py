"""review17: item 123's hold of a request whose connect finished during a pause, for a CONNECT tunnel. The tunnel's
connect was under way (its first SYN dropped) when /pause held the upstream: the connection it finished with must not
become the tunnel (a frozen container would take the caller's bytes unread); the CONNECT waits with the held
requests, gets its 200 after /resume on a new connection, and its bytes are echoed."""
import socket
import threading
import time

import pytest

from berthkit import admin, echo_handler, stats, upstream_stats, wait_for
from berthkit.nftables import NftablesUnavailable, Vanish


def _faults():
    try:
        return Vanish()
    except NftablesUnavailable as e:
        pytest.skip(str(e))


def _tunnel(b, hostport, out):
    """CONNECT to `hostport`, one echoed word; out: the status, when the 200 came, the echo (or the error)."""
    try:
        s = socket.create_connection(b.proxy, timeout=20)
        try:
            s.sendall(f"CONNECT {hostport} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(1)
                if not chunk:
                    break
                head += chunk
            out["status"], out["at"] = int(head.split(b" ", 2)[1]) if head else None, time.monotonic()
            if out["status"] == 200:
                s.sendall(b"ping")
                out["echo"] = s.recv(4)
        finally:
            s.close()
    except OSError as e:
        out["status"] = repr(e)


def test_a_tunnel_whose_connect_finished_during_a_pause_waits_for_the_resume(berth, raw_origin):
    o = raw_origin(echo_handler)
    b = berth("--connect-port", str(o.port), "--connect-timeout", "5s", "--acquire-timeout", "10s")
    out = {}
    with _faults() as lose:
        lose(o.port, "syn")
        t = threading.Thread(target=_tunnel, args=(b, o.hostport, out))
        t.start()
        wait_for(lambda: (upstream_stats(b, o.hostport) or {}).get("connecting") == 1, timeout=5,
                 what=f"the connect under way ({out}, {[u['upstream'] for u in stats(b)['upstreams']]})")
        assert admin(b, "POST", f"/pause?upstream={o.hostport}&mode=hold").status == 200
    # The SYN goes again about a second after the first: the connect finishes while the upstream is paused.
    wait_for(lambda: upstream_stats(b, o.hostport)["connecting"] == 0, timeout=5, what="the connect done")
    time.sleep(0.3)
    assert "status" not in out, f"the tunnel was opened to the paused upstream: {out}"
    assert upstream_stats(b, o.hostport)["pending"] == 1, upstream_stats(b, o.hostport)
    resumed = time.monotonic()
    assert admin(b, "POST", f"/resume?upstream={o.hostport}").status == 200
    t.join(10)
    assert out.get("status") == 200 and out["at"] >= resumed and out.get("echo") == b"ping", out
