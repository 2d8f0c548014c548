"""review4: every request whose head berth read gets its access line, also when berth answers it and closes (a
refused CONNECT): those are the lines an operator looks for first."""
import json

from berthkit import RawClient, wait_for


def access_docs(b):
    return [d for d in (json.loads(line) for line in b.stderr_text().splitlines()) if d.get("msg") == "access"]


def test_refused_connects_are_logged(berth):
    """Before: the 403s for CONNECTs to ports outside the allowed ones wrote no access line (answers that close
    the caller skipped it). After: one line each."""
    b = berth("--access-log", "--log-format", "json")
    for target, status in (("127.0.0.1:25", 403), ("127.0.0.1:1", 403)):
        c = RawClient(b.proxy, timeout=5)
        try:
            resp = c.request(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode(), method="CONNECT")
        finally:
            c.close()
        assert resp.status == status
    wait_for(lambda: len(access_docs(b)) >= 2, what="2 access lines", timeout=5)
    docs = access_docs(b)
    assert [(d["method"], d["target"]) for d in docs] == [("CONNECT", "127.0.0.1:25"), ("CONNECT", "127.0.0.1:1")]


def test_a_refused_connect_and_a_refused_get_name_no_upstream_alike(berth, raw_origin):
    """`upstream` is where a request was routed: a request refused before routing names none, whatever its method
    (h-left). Before: a CONNECT to a port outside connect-port, or outside the allowlist, logged the upstream it had
    named (`upstream=127.0.0.1:25`, `attempts=first`), a GET refused by the allowlist `-` and none; the destination
    is in `target` for both.
    A routed CONNECT whose connect failed names its upstream, as a routed GET does."""
    dead = raw_origin(lambda conn: None)
    port = dead.hostport.rsplit(":", 1)[1]
    dead.close()
    b = berth("--access-log", "--log-format", "json", "--allow", "127.0.0.2", "--connect-port", port)
    asks = [("CONNECT", "127.0.0.1:25", 403), ("CONNECT", f"127.0.0.1:{port}", 403),
            ("GET", f"http://127.0.0.1:{port}/x", 403), ("CONNECT", f"127.0.0.2:{port}", 502),
            ("GET", f"http://127.0.0.2:{port}/x", 502)]
    for method, target, status in asks:
        host = target.split("/")[2] if method == "GET" else target
        c = RawClient(b.proxy, timeout=5)
        try:
            resp = c.request(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), method=method)
        finally:
            c.close()
        assert resp.status == status, (method, target, resp.status)
    wait_for(lambda: len(access_docs(b)) >= len(asks), what="an access line each", timeout=5)
    docs = access_docs(b)
    assert [(d["method"], d["target"], d["upstream"]) for d in docs] == [
        ("CONNECT", "127.0.0.1:25", None), ("CONNECT", f"127.0.0.1:{port}", None),
        ("GET", f"http://127.0.0.1:{port}/x", None), ("CONNECT", f"127.0.0.2:{port}", f"127.0.0.2:{port}"),
        ("GET", f"http://127.0.0.2:{port}/x", f"127.0.0.2:{port}")]
    # Nor does one refused before routing list an attempt, whatever its method.
    assert [d["attempts"] for d in docs] == [[], [], [], ["first"], ["first"]]
