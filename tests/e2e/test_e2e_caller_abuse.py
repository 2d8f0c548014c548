"""Caller abuse: slowloris, 10,000 idle callers, disconnects mid-upload / mid-download, pipelined floods,
oversized heads and the request-smuggling corpus."""
import resource
import socket
import threading
import time

import pytest

from berthkit import RawClient, admin, get_req, keepalive_loop, stats, wait_for, wait_upstream
from e2e_helpers import FIGURES, fd_count, rss_kb, scale, send, wait_pools_settled
from berthkit.smuggling_corpus import SMUGGLED_MARK, corpus


def test_slowloris_header_timeout_408(berth, origin):
    """--header-timeout 2s; 20 callers send a head one byte a second: each gets 408 header-timeout and is closed
    within 2 s (+0.5 s); a normal request meanwhile succeeds."""
    b = berth("--header-timeout", "2s")
    head = get_req(origin.hostport, "/slowloris")
    n = 20
    results = [None] * n

    def loris(i):
        s = socket.create_connection(b.proxy, timeout=10)
        t0 = time.monotonic()
        got = b""
        try:
            for byte in head:
                s.sendall(bytes([byte]))
                s.settimeout(1.0)
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                got += data
                break
            s.settimeout(5)
            while True:
                data = s.recv(65536)
                if not data:
                    break
                got += data
        except (ConnectionResetError, BrokenPipeError) as e:
            got += f"<{type(e).__name__}>".encode()
        except socket.timeout:
            got += b"<hung>"
        results[i] = (time.monotonic() - t0, got)
        s.close()

    ts = [threading.Thread(target=loris, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    time.sleep(0.5)
    r = send(b.proxy, origin.hostport, path="/normal-during-slowloris")
    for t in ts:
        t.join(15)
    FIGURES.fault("slowloris caller", n)
    FIGURES.request(n)
    for _ in range(n):
        FIGURES.failure("expected: header-timeout")
    assert r.status == 200, r
    elapsed = [e for e, _ in results]
    FIGURES.put("slowloris_close_after_s", {"header_timeout_s": 2, "min": round(min(elapsed), 3),
                                            "max": round(max(elapsed), 3)})
    for e, got in results:
        assert got.startswith(b"HTTP/1.1 408 "), got[:200]
        assert b"\r\nBerth-Error: header-timeout\r\n" in got, got[:300]
        assert 1.9 <= e <= 2.5, f"slowloris connection closed after {e:.2f}s (header timeout 2s)"
    assert stats(b)["totals"]["header_timeouts"] >= n


def test_ten_thousand_idle_callers(berth, origin):
    """10,000 idle caller connections (no bytes sent) while a normal request still succeeds promptly."""
    n = scale(10000, 10000)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 500:
        pytest.skip(f"RLIMIT_NOFILE {soft} < {n + 500}")
    b = berth("--header-timeout", "60s", "--caller-idle-timeout", "1m")
    base_fds = fd_count(b.proc.pid)
    socks = []
    t0 = time.monotonic()
    try:
        for i in range(n):
            s = socket.socket()
            s.settimeout(10)
            s.connect(b.proxy)
            socks.append(s)
        connect_s = time.monotonic() - t0
        wait_for(lambda: stats(b)["totals"]["callers"] >= n, timeout=30, what=f"{n} callers accepted")
        lat = []
        for i in range(5):
            r = send(b.proxy, origin.hostport, path=f"/with-idle-callers/{i}")
            assert r.status == 200, r
            lat.append(r.elapsed)
        peak_fds = fd_count(b.proc.pid)
        rss = open(f"/proc/{b.proc.pid}/status").read().split("VmRSS:")[1].split()[0]
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=30, what="callers back to 0")
    wait_for(lambda: fd_count(b.proc.pid) <= base_fds + 2, timeout=10, what="berth fds back to baseline")
    FIGURES.fault("idle caller connection", n)
    FIGURES.put("idle_callers", {"connections": n, "connect_seconds": round(connect_s, 2),
                                 "request_latency_max_ms": round(max(lat) * 1000, 1), "berth_fds_peak": peak_fds,
                                 "berth_fds_baseline": base_fds, "berth_rss_kb_with_idle": int(rss)})
    assert max(lat) < 1.0, f"request latency {max(lat):.3f}s with {n} idle callers"


def _sink_origin(raw_origin, log):
    """An origin that reads a head then reads the body slowly, recording how the connection ended."""
    def handler(conn):
        msg = conn.read_request_head()
        got = 0
        try:
            while True:
                data = conn.read_some()
                if not data:
                    log.append(("eof", got))
                    return
                got += len(data)
                time.sleep(0.01)
        except (ConnectionResetError, OSError) as e:
            log.append((type(e).__name__, got))
    return raw_origin(handler)


def test_caller_disconnects_mid_upload(berth, origin, raw_origin):
    """POST with Content-Length 1 MB; the caller sends 100 KB and closes: the upstream connection is closed (not
    pooled), the upstream sees the end, and busy/pending return to 0."""
    b = berth("--socket-timeout", "5s")
    log = []
    o = _sink_origin(raw_origin, log)
    for i in range(3):
        c = RawClient(b.proxy, timeout=5)
        c.sendall(f"POST http://{o.hostport}/upload HTTP/1.1\r\nHost: {o.hostport}\r\n"
                  f"Content-Length: 1000000\r\n\r\n".encode() + b"u" * 100000)
        time.sleep(0.3)
        c.close()
        FIGURES.fault("caller disconnect mid-upload")
        FIGURES.request()
    wait_for(lambda: len(log) == 3, timeout=5, what="upstream saw the end of all 3 uploads")
    st = wait_pools_settled(b, o.hostport)
    FIGURES.put("mid_upload_closed", {k: v for k, v in st["connections"]["closed"].items() if v})
    assert st["open"] == 0, f"incomplete upload's upstream connection kept: {st}"
    assert all(got < 1000000 for _, got in log)
    assert send(b.proxy, origin.hostport).status == 200


def test_caller_disconnects_mid_download(berth, origin, raw_origin):
    """The upstream streams a 50 MB body; the caller reads 64 KB and closes: the upstream connection is closed
    promptly (not pooled) and busy returns to 0."""
    b = berth("--socket-timeout", "5s")
    ended = []

    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n")
        sent = 0
        try:
            while sent < 50000000:
                conn.sendall(b"d" * 65536)
                sent += 65536
                time.sleep(0.002)
            ended.append(("complete", sent))
        except OSError as e:
            ended.append((type(e).__name__, sent))

    o = raw_origin(handler)
    for i in range(3):
        c = RawClient(b.proxy, timeout=5)
        c.sendall(get_req(o.hostport, "/download"))
        c.read_until(b"\r\n\r\n")
        c.read_exact(65536)
        c.close()
        FIGURES.fault("caller disconnect mid-download")
        FIGURES.request()
    wait_for(lambda: len(ended) == 3, timeout=10, what="upstream saw the connection end")
    st = wait_pools_settled(b, o.hostport)
    FIGURES.put("mid_download_closed", {k: v for k, v in st["connections"]["closed"].items() if v})
    assert st["open"] == 0, st
    assert all(how != "complete" for how, _ in ended), ended
    assert send(b.proxy, origin.hostport).status == 200


def test_caller_disconnects_while_waiting_for_head(berth, raw_origin):
    """The caller closes while the upstream is still thinking: busy returns to 0 once the upstream answers."""
    b = berth("--socket-timeout", "5s")

    def respond(conn, msg):
        time.sleep(0.5)
        conn.respond(200, b"late")

    o = raw_origin(keepalive_loop(respond))
    for i in range(3):
        c = RawClient(b.proxy, timeout=5)
        c.sendall(get_req(o.hostport, f"/wait/{i}"))
        time.sleep(0.1)
        c.close()
        FIGURES.fault("caller disconnect before response head")
    st = wait_pools_settled(b, o.hostport, timeout=5)
    assert st["busy"] == 0


def _one_write(conn, msg):
    body = f"hello {msg.target}".encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def test_pipelined_flood_answered_in_order(berth, raw_origin):
    """1000 pipelined GETs in one write, on one caller connection: 1000 responses, in order.
    (The origin answers in one write: tests/conftest.py's Origin writes head and body separately, which costs
    40 ms per keep-alive exchange from Nagle + delayed ACK, with or without berth.)"""
    b = berth("--socket-timeout", "5s")
    origin = raw_origin(keepalive_loop(_one_write))
    n = scale(1000, 5000)
    c = RawClient(b.proxy, timeout=30)
    payload = b"".join(get_req(origin.hostport, f"/p/{i}") for i in range(n))
    t0 = time.monotonic()
    sender = threading.Thread(target=c.sendall, args=(payload,))
    sender.start()
    for i in range(n):
        m = c.read_response()
        assert (m.status, m.body) == (200, f"hello /p/{i}".encode()), (i, m)
    sender.join(10)
    c.close()
    FIGURES.request(n)
    FIGURES.put("pipelined_flood", {"requests": n, "bytes_in_one_write": len(payload),
                                    "seconds": round(time.monotonic() - t0, 2)})


@pytest.mark.parametrize("name,extra,path,status", [
    ("uri-9k", b"", "/" + "u" * 9000, 414),
    ("header-70k", b"X-Big: " + b"h" * 70000 + b"\r\n", "/", 431),
    ("headers-101", b"".join(b"X-H%d: v\r\n" % i for i in range(101)), "/", 431),
    ("header-section-65k", b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 800) for i in range(82)), "/", 431),
])
def test_oversized_heads(berth, origin, name, extra, path, status):
    b = berth()
    FIGURES.fault(f"oversized head ({name})")
    c = RawClient(b.proxy, timeout=5)
    try:
        c.sendall(get_req(origin.hostport, path, extra=extra))
    except (BrokenPipeError, ConnectionResetError):
        pass
    m = c.read_response()
    FIGURES.request()
    FIGURES.failure(f"expected: bad-request {m.status}")
    assert m.status == status, m
    assert m.header("Berth-Error") == "bad-request", m
    assert c.is_closed(2.0), "connection left open after an oversized head"
    c.close()
    assert not [r for r in origin.requests if r[1] != "/after"], "oversized request reached the upstream"
    assert send(b.proxy, origin.hostport, path="/after").status == 200


def test_smuggling_corpus_never_reaches_upstream(berth, raw_origin):
    """Every corpus item is sent raw on its own caller connection. The upstream (a raw origin that logs every
    request line it parses, framing by TE-if-chunked-else-CL) must never see a request for /SMUGGLED, and never
    more than one request per item."""
    b = berth("--socket-timeout", "2s")
    seen = []

    def respond(conn, msg):
        seen.append((conn.peer[1], msg.method, msg.target))
        conn.respond(200, b"ok")

    o = raw_origin(keepalive_loop(respond))
    outcomes = {}
    per_item = {}
    for name, raw in corpus(o.hostport):
        before = len(seen)
        c = RawClient(b.proxy, timeout=1.0)
        c.sendall(raw)
        got = b""
        try:
            got = c.read_until_close()
        except OSError as e:  # timeout: berth kept the connection open, which is fine once it has answered
            got = c.buf + f"<{type(e).__name__}>".encode()
        c.close()
        time.sleep(0.05)
        statuses = [line.split(b" ")[1].decode() for line in got.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]
        outcomes[name] = statuses
        per_item[name] = [t for _, _, t in seen[before:]]
        FIGURES.fault("smuggling attempt")
        FIGURES.request()
    FIGURES.put("smuggling_corpus", {"items": len(outcomes),
                                     "berth_answers": {k: " ".join(v) for k, v in sorted(outcomes.items())},
                                     "upstream_saw": {k: v for k, v in sorted(per_item.items()) if v}})
    smuggled = {k: v for k, v in per_item.items() if any(SMUGGLED_MARK in t for t in v)}
    assert smuggled == {}, f"the upstream parsed a smuggled request: {smuggled}"
    assert {k: v for k, v in per_item.items() if len(v) > 1} == {}
    assert o.errors == [], o.errors
    wait_pools_settled(b, o.hostport)


def test_caller_that_stops_reading_is_bounded(berth, raw_origin):
    """A caller asks for 50 MB and never reads (4 KB receive buffer). berth must not buffer the body (RSS stays
    bounded: it stops reading the upstream) and must not pin the upstream connection forever: it is freed after
    --caller-idle-timeout (3 s here): docs/architecture.md says the socket timeout pauses while the caller is the
    slow side and the caller's idle timeout runs instead."""
    b = berth("--socket-timeout", "1s", "--caller-idle-timeout", "3s")

    def big(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n")
        for _ in range(800):
            conn.sendall(b"z" * 65536)

    o = raw_origin(big)
    rss0 = rss_kb(b.proc.pid)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(b.proxy)
    s.sendall(get_req(o.hostport, "/big"))
    FIGURES.fault("caller stops reading")
    FIGURES.request()
    t0 = time.monotonic()
    try:
        wait_upstream(b, o.hostport, lambda st: st["busy"] == 1, timeout=3, what="exchange started")
        time.sleep(1.5)
        rss_mid = rss_kb(b.proc.pid)
        st = wait_upstream(b, o.hostport, lambda st: st["busy"] == 0, timeout=10, what="stalled exchange freed")
        freed_after = time.monotonic() - t0
    finally:
        s.close()
    FIGURES.put("stalled_reader", {"freed_after_s": round(freed_after, 2), "rss_growth_kb": rss_mid - rss0})
    assert rss_mid - rss0 < 20 * 1024, f"berth buffered {rss_mid - rss0} kB for a caller that does not read"
    assert freed_after < 3.0 + 1.5, freed_after
    assert st["open"] == 0, st


def test_invalid_chunked_body_while_connecting_does_not_crash(berth, raw_origin):
    """Regression for a crash found by fuzz/session: 4 concurrent callers each send a chunked POST whose chunk data is
    longer than its size (3\\r\\nhello), plus a pipelined request, to an upstream that needs a fresh connection
    (evicted each time). berth must answer 400 and live. Seen: SIGSEGV in ErrorResponse.write <- answerError <-
    upstreamFailed <- send(on:reused:) <- connectFinished (a second error answer into an already closed caller).
    Each answer must be one whole 400 bad-request and nothing after it (a second answer would follow it).
    The connect timeout is long on purpose: the origins accept in Python threads, and on a loaded machine their accept
    queue fills, the kernel drops berth's SYN and resends it after its initial RTO of 1 s, which is the default
    connect timeout; berth then rightly answers 504 connect-timeout before the request reaches the path under test."""
    b = berth("--socket-timeout", "300ms", "--header-timeout", "1s", "--connect-timeout", "10s")

    def respond(conn, msg):
        time.sleep(0.5)
        conn.sendall(b"HTTP/1.1 200 OK\r")

    origins = [raw_origin(keepalive_loop(respond)) for _ in range(4)]
    stop = threading.Event()
    count = [0]
    answers = set()  # whole answers: the 400s differ only by upstream, so the set stays small

    def lane(o):
        hp = o.hostport
        while not stop.is_set() and b.proc.poll() is None:
            try:
                s = socket.create_connection(b.proxy, timeout=8)
                s.sendall(f"POST http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
                          f"3\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode())
                got = b""
                while d := s.recv(65536):
                    got += d
                answers.add(got)
                s.close()
            except OSError:
                pass
            try:
                admin(b, "POST", f"/evict?upstream={hp}", timeout=2)
            except OSError:
                pass
            count[0] += 1

    ts = [threading.Thread(target=lane, args=(o,), daemon=True) for o in origins]
    for t in ts:
        t.start()
    t0 = time.monotonic()
    limit = scale(15, 60)
    while time.monotonic() - t0 < limit and b.proc.poll() is None:
        time.sleep(0.2)
    stop.set()
    for t in ts:
        t.join(10)
    FIGURES.fault("invalid chunked body while connecting", count[0])
    FIGURES.request(count[0])
    rc = b.proc.poll()
    FIGURES.put("invalid_chunked_while_connecting", {"executions": count[0], "seconds": round(time.monotonic() - t0, 1),
                                                     "berth_exit": rc})
    assert rc is None, f"berth died with {rc} after {count[0]} requests; stderr:\n" + b.stderr_text()[-3000:]
    wrong = [a for a in answers if not one_bad_request(a)]
    assert wrong == [], f"{len(wrong)} kinds of answer besides one whole 400 bad-request:\n" + "\n".join(map(repr, wrong[:5]))


def one_bad_request(answer):
    """Whether `answer` is exactly one 400 bad-request, its body as long as its Content-Length, nothing after it."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = [int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length:")]
    return (lines[0].startswith(b"HTTP/1.1 400 ") and b"Berth-Error: bad-request" in lines
            and length == [len(body)])
