"""A flood of POST /watch for distinct upstreams: each watch holds its cgroup state file open on every worker, and
nothing counted those descriptors. Past RLIMIT_NOFILE berth could accept no caller and open no connection (a caller
waited with no answer at all), and /watch said 400 "Too many open files". A watch's descriptor now takes a place
under max-callers with the callers: past it /watch answers 503 with the reason, and a caller is always answered."""
import os
import resource
import socket

from berthkit import admin, admin_json
from hostile_wire import connect, header_of, read_response, status_of

WATCHES = 400


def _limit_descriptors(n):
    return {"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))}


def _get(b, hostport):
    """One GET on a fresh connection; the answer's head, or None when nothing came within 5 s."""
    s = connect(b.proxy, timeout=5)
    try:
        s.sendall(f"GET http://{hostport}/ HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n".encode())
        head, _ = read_response(s)
        return head
    except (socket.timeout, AssertionError, OSError):
        return None
    finally:
        s.close()


def test_a_flood_of_watches_leaves_callers_answered_and_says_why_it_stops(berth, origin, tmp_path):
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    b = berth("--max-total", "50", "--max-per-route", "50", popen_kw=_limit_descriptors(256))
    answers = {}
    for i in range(WATCHES):
        r = admin(b, "POST", f"/watch?upstream=10.0.{i // 250}.{i % 250 + 1}:80&cgroup={cgroup}")
        answers.setdefault(r.status, []).append(r.text)
    assert set(answers) <= {200, 503}, {k: v[:1] for k, v in answers.items()}
    assert 503 in answers and "max-callers" in answers[503][0], {k: v[:1] for k, v in answers.items()}
    assert len(os.listdir(f"/proc/{b.pid}/fd")) < 250
    # Every caller is answered (the limit may be full of watches: then 503 too-many-callers, never silence).
    head = _get(b, origin.hostport)
    assert head is not None, "the caller got no answer: berth is out of descriptors"
    assert status_of(head) == 200 or header_of(head + b"\r\n\r\n", "Berth-Error") == "too-many-callers", head
    # Watches given back make room again.
    for i in range(20):
        admin_json(b, "POST", f"/unwatch?upstream=10.0.{i // 250}.{i % 250 + 1}:80")
    head = _get(b, origin.hostport)
    assert head is not None and status_of(head) == 200, head
