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
