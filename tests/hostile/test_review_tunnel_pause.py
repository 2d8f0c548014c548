"""Review of tunnels under the freezer watch: the pool a CONNECT opens while its endpoint is frozen follows the thaw."""
import json
import threading

from berthkit import admin, stats, wait_for
from hostile_wire import connect, status_of
from berthkit import echo_handler


def _events(d, frozen):
    # One write of the same length, in place, as the kernel updates the file.
    with open(d / "cgroup.events", "r+" if (d / "cgroup.events").exists() else "w") as f:
        f.write(f"populated 1\nfrozen {1 if frozen else 0}\n")


def _tunnel(b, o, out):
    """CONNECT to `o` and one echoed word; out[0] is the status (or the error)."""
    try:
        s = connect(b.proxy, timeout=30)
        try:
            s.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(1)
                if not chunk:
                    break
                head += chunk
            out[0] = status_of(head)
            if out[0] == 200:
                s.sendall(b"ping")
                out.append(s.recv(4))
        finally:
            s.close()
    except OSError as e:
        out[0] = repr(e)


def _pools(b, hostport):
    """The endpoint's pools in /stats: the plain one (`host:port`) and the TLS one (`https://host:port`)."""
    return [u for u in stats(b)["upstreams"] if u["upstream"] in (hostport, "https://" + hostport)]


def test_a_connect_held_by_a_frozen_endpoint_goes_through_on_the_thaw(berth, raw_origin, tmp_path):
    """With tls on, requests to the endpoint use its TLS pool, which the watch pauses; a CONNECT opens the plain pool,
    paused as its frozen sibling is. The thaw must release both: before, the new pool stayed paused with nobody
    holding it, so the CONNECT (and every later one) waited out the acquire timeout."""
    o = raw_origin(echo_handler)
    _events(tmp_path, frozen=True)
    b = berth("--tls", "--connect-port", str(o.port), "--acquire-timeout", "8s", "--freezer-poll-interval", "50ms")
    r = admin(b, "POST", f"/watch?upstream={o.hostport}&cgroup={tmp_path}", timeout=10)
    assert r.status == 200, r.text
    wait_for(lambda: any(u.get("paused_by") == "watch" for u in _pools(b, o.hostport)), timeout=10,
             what="the watch to pause the endpoint")
    out = [None]
    t = threading.Thread(target=_tunnel, args=(b, o, out), daemon=True)
    t.start()
    wait_for(lambda: any(u["pending"] == 1 for u in _pools(b, o.hostport)), timeout=10, what="the CONNECT to be held")
    _events(tmp_path, frozen=False)
    t.join(20)
    assert out[0] == 200, (out, json.dumps(_pools(b, o.hostport))[:1500])
    assert out[1:] == [b"ping"], out
    assert all(u["state"] == "active" for u in _pools(b, o.hostport)), _pools(b, o.hostport)
