"""Leaks and memory safety: representative proxy traffic against berth under valgrind memcheck.

valgrind 3.19 cannot read the DWARF 5 of the Swift binary, so a copy stripped of debug info is run
(as bench/lib/allocs.py does). Bounded: ~250 requests of mixed traffic, then SIGTERM.
"""
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from berthkit import Berth, RawClient, admin, free_port, get_req
from e2e_helpers import FIGURES, scale, send

ROUNDS = scale(3, 20)


def _traffic(b, origin, raw_origin):
    """Mixed traffic; returns the number of requests sent. Every outcome is checked."""
    hp = origin.hostport
    n = 0
    # keep-alive GET/POST on one caller connection, chunked upload, HEAD, pipelining
    c = RawClient(b.proxy, timeout=30)
    for i in range(20):
        m = c.request(get_req(hp, f"/ka/{i}"))
        assert m.status == 200, m
        m = c.request(get_req(hp, f"/post/{i}", method="POST", body=b"p" * (i * 100)), "POST")
        assert m.status == 200 and m.body == b"p" * (i * 100), m
        n += 2
    c.sendall(f"POST http://{hp}/chunked HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
              "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".encode())
    assert c.read_response("POST").body == b"hello world"
    c.sendall(b"".join(get_req(hp, f"/pipe/{i}") for i in range(30)))
    for i in range(30):
        assert c.read_response().body == f"hello /pipe/{i}".encode()
    c.close()
    n += 31
    # fresh connections, Connection: close, HTTP/1.0, big body
    for i in range(10):
        r = send(b.proxy, hp, path=f"/close/{i}", extra=b"Connection: close\r\n", timeout=30)
        assert r.status == 200, r
        n += 1
    r = send(b.proxy, hp, path="/bytes/300000", timeout=30)
    assert r.status == 200 and len(r.body) == 300000, r
    # errors: bad requests, refused, invalid response, reset, read-timeout, caller abort
    for raw in (b"GET / HTTP/1.1\r\n\r\n", b"GARBAGE\r\n\r\n", get_req(hp, "/" + "u" * 9000),
                f"POST http://{hp}/ HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
                .encode()):
        c = RawClient(b.proxy, timeout=30)
        c.sendall(raw)
        assert c.read_response().status in (400, 414)
        c.close()
        n += 1
    # invalid chunked body behind a valid head, on a fresh upstream connection (400; see the crash test)
    assert admin(b, "POST", f"/evict?upstream={hp}", timeout=30)[0] == 200
    c = RawClient(b.proxy, timeout=30)
    c.sendall(f"POST http://{hp}/badchunk HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
              "3\r\nhello\r\n0\r\n\r\n".encode())
    assert c.read_response("POST").status == 400
    c.close()
    n += 1
    r = send(b.proxy, f"127.0.0.1:{free_port()}", timeout=30, expect="connect-refused")
    assert r.berth_error == "connect-refused", r

    def bad(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        time.sleep(0.5)

    def reset(conn):
        import struct
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()

    def slow(conn):
        conn.read_request()
        time.sleep(3)

    def stream(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
        for _ in range(150):
            conn.sendall(b"s" * 65536)

    o_bad, o_rst, o_slow, o_stream = (raw_origin(h) for h in (bad, reset, slow, stream))
    assert send(b.proxy, o_bad.hostport, timeout=30, expect="invalid-response").berth_error == "invalid-response"
    c = RawClient(b.proxy, timeout=30)
    c.sendall(get_req(o_rst.hostport, "/rst"))
    # A Content-Length body cut by the upstream's reset cannot show the cut in its framing: berth resets the caller.
    with pytest.raises(ConnectionResetError):
        c.read_until_close()
    c.close()
    r = send(b.proxy, o_slow.hostport, extra=b"Berth-Socket-Timeout: 1s\r\n", timeout=30, expect="read-timeout")
    assert r.berth_error == "read-timeout", r
    c = RawClient(b.proxy, timeout=30)
    c.sendall(get_req(o_stream.hostport, "/stream"))
    c.read_until(b"\r\n\r\n")
    c.read_exact(100000)
    c.close()
    n += 5
    # admin: pause (hold) with a held request released by resume, evict, stats, metrics
    assert admin(b, "POST", f"/pause?upstream={hp}", timeout=30)[0] == 200
    held = {}
    t = threading.Thread(target=lambda: held.setdefault("r", send(b.proxy, hp, path="/held", timeout=30)))
    t.start()
    time.sleep(0.5)
    assert admin(b, "POST", f"/resume?upstream={hp}&prewarm=2", timeout=30)[0] == 200
    t.join(30)
    assert held["r"].status == 200, held
    assert admin(b, "POST", f"/pause?upstream={hp}&mode=reject", timeout=30)[0] == 200
    assert send(b.proxy, hp, timeout=30, expect="upstream-paused").berth_error == "upstream-paused"
    assert admin(b, "POST", f"/resume?upstream={hp}", timeout=30)[0] == 200
    assert admin(b, "POST", "/evict", timeout=30)[0] == 200
    assert admin(b, "POST", f"/evict?upstream={hp}&forget=true", timeout=30)[0] == 200
    assert admin(b, "GET", "/stats", timeout=30)[0] == 200
    assert admin(b, "GET", "/metrics", timeout=30).status == 200
    n += 2
    # concurrent callers
    res = []
    ts = [threading.Thread(target=lambda i=i: res.append(send(b.proxy, hp, path=f"/conc/{i}", timeout=60)))
          for i in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert all(r.status == 200 for r in res), [r for r in res if r.status != 200]
    return n + 20


def test_memcheck_no_definite_leaks_no_invalid_access(tmp_path, origin, raw_origin):
    if not shutil.which("valgrind") or not shutil.which("objcopy"):
        pytest.skip("valgrind/objcopy not installed")
    binary = str(tmp_path / "berth-nodebug")
    subprocess.run(["objcopy", "--strip-debug", os.environ.get("BERTH_BIN", ""), binary], check=True)
    log = str(tmp_path / "memcheck.log")
    memcheck = ["valgrind", "--tool=memcheck", "--leak-check=full", "--errors-for-leak-kinds=definite",
                "--error-exitcode=99", f"--log-file={log}"]
    t0 = time.monotonic()
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--log-level", "warning", "--socket-timeout", "30s", "--connect-timeout", "30s", "--idle-timeout", "1h",
               "--drain-timeout", "5s"], binary=binary, wrapper=memcheck, log_path=str(tmp_path / "berth.stderr"),
              ready_timeout=120)
    try:
        sent = sum(_traffic(b, origin, raw_origin) for _ in range(ROUNDS))
    finally:
        rc = b.stop(timeout=120)
    text = open(log).read()
    elapsed = time.monotonic() - t0

    def lost(kind):
        m = re.search(rf"{kind} lost: ([\d,]+) bytes in ([\d,]+) blocks", text)
        return int(m.group(1).replace(",", "")) if m else 0

    invalid = re.findall(r"^==\d+== (Invalid (?:read|write|free)[^\n]*|Conditional jump[^\n]*|"
                         r"Syscall param[^\n]*|Mismatched free[^\n]*)", text, re.M)
    errs = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    heap = re.search(r"total heap usage: ([\d,]+) allocs, ([\d,]+) frees", text)
    FIGURES.request(sent)
    FIGURES.put("valgrind", {"requests": sent, "seconds": round(elapsed, 1), "exit_status": rc,
                             "definitely_lost_bytes": lost("definitely"), "indirectly_lost_bytes": lost("indirectly"),
                             "possibly_lost_bytes": lost("possibly"), "invalid_accesses": len(invalid),
                             "error_summary": int(errs.group(1)) if errs else None,
                             "heap": heap.group(0) if heap else None})
    assert "definitely lost" in text or "All heap blocks were freed" in text or "LEAK SUMMARY" in text, \
        f"no leak summary in the valgrind log (berth exit {rc}): {text[-2000:]}"
    assert invalid == [], f"memcheck errors: {invalid[:10]}; see log excerpt:\n{text[:4000]}"
    assert lost("definitely") == 0, f"definitely lost {lost('definitely')} bytes:\n" + \
        "\n".join(l for l in text.splitlines() if "lost" in l)
    assert rc == 0, f"berth under valgrind exited {rc}; log tail:\n{text[-3000:]}"
