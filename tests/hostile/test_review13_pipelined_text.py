"""review13: a head's text is reused with a length of its own; pipelined requests of falling length on one kept
connection, and answers whose reasons shrink (a long 1xx reason, then a short final one), show only their own bytes
in what berth forwards (target, Host, reason) and logs (the access line's target)."""
import json

from berthkit import wait_for
from hostile_wire import connect, read_to_end


def _echo_with_reason(conn):
    while True:
        msg = conn.read_request()
        if msg is None:
            return
        reason = msg.header("X-Reason") or "OK"
        if msg.header("X-Interim"):
            conn.sendall(f"HTTP/1.1 103 {msg.header('X-Interim')}\r\nLink: </a>\r\n\r\n".encode())
        conn.respond(200, f"{msg.target}|{msg.header('Host')}".encode(), reason=reason)


def _access_targets(b):
    docs = (json.loads(line) for line in b.stderr_text().splitlines() if line.startswith("{"))
    return [d["target"] for d in docs if d.get("msg") == "access"]


def test_falling_lengths_forward_and_log_only_their_own_bytes(berth, raw_origin):
    o = raw_origin(_echo_with_reason)
    b = berth("--access-log", "--log-format", "json")
    hp = o.hostport
    long_path = "/" + "L" * 300
    reqs = [
        (f"http://{hp}{long_path}?q=" + "Q" * 100, f"{long_path}?q=" + "Q" * 100, ("A Very Long Reason Phrase " * 4).strip(), ("Early Hints " * 8).strip()),
        (f"http://{hp}/mid", "/mid", "Shorter Reason", ""),
        (f"http://{hp}", "/", "R", "Hints With A Long Reason Again"),
        ("/s", "/s", "", ""),
        (f"http://{hp}?z", "/?z", "OK", ""),
    ]
    raw = b""
    for target, _, reason, interim in reqs:
        extra = f"X-Reason: {reason}\r\n" if reason else ""
        extra += f"X-Interim: {interim}\r\n" if interim else ""
        raw += f"GET {target} HTTP/1.1\r\nHost: {hp}\r\n{extra}\r\n".encode()
    raw += f"GET /last HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\n\r\n".encode()
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(raw)
        data, _ = read_to_end(s, timeout=10)
    finally:
        s.close()
    finals = [p for p in data.split(b"HTTP/1.1 ")[1:] if p.startswith(b"200")]
    assert len(finals) == len(reqs) + 1, data[:2000]
    for (target, seen, reason, interim), part in zip(reqs, finals):
        line, _, rest = part.partition(b"\r\n")
        assert line == f"200 {reason or 'OK'}".encode(), (target, line)
        body = rest.split(b"\r\n\r\n", 1)[1]
        assert body == f"{seen}|{hp}".encode(), (target, body[:400])
    for _, _, _, interim in reqs:
        if interim:
            assert f"103 {interim}\r\n".encode() in data
    wait_for(lambda: len(_access_targets(b)) >= len(reqs) + 1, what="access lines", timeout=5)
    # A value past the access line's cap is cut there and ends in `...`: the long target's start is its own.
    logged = _access_targets(b)
    want = [t for t, *_ in reqs] + ["/last"]
    assert logged[0].endswith("...") and want[0].startswith(logged[0][:-3]), logged[0]
    assert logged[1:] == want[1:]
