"""Review 9: a bounded storm at --max-callers with --workers 3 (idle, silent, partial-head, bad-head and kept callers,
so workers ask each other for room), with max-callers raised and lowered by SIGHUP meanwhile and a SIGTERM in the
middle of a second storm: the caller gauge comes back to 0, berth exits 0. Run against a ThreadSanitizer build
(BERTH_BIN=.build/tsan/debug/berth, TSAN_OPTIONS=log_path=...) it is the cross-worker reclaim's race probe."""
import random
import signal
import socket
import threading
import time

from berthkit import keepalive_loop, stats, wait_for

CLIENTS = 8
STORM_SECONDS = 3.0


def _one(proxy, hostport, rng):
    s = socket.create_connection(proxy, timeout=3)
    try:
        kind = rng.randrange(5)
        if kind == 0:  # a request, kept a moment, then another
            for _ in range(2):
                s.sendall(f"GET http://{hostport}/ok HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
                s.recv(65536)
                time.sleep(rng.random() * 0.03)
        elif kind == 1:  # silent
            time.sleep(rng.random() * 0.05)
        elif kind == 2:  # part of a head, then gone
            s.sendall(f"GET http://{hostport}/ok HTTP/1.1\r\nHost: {hostport}\r\nX-A: ".encode())
            time.sleep(rng.random() * 0.05)
        elif kind == 3:  # a bad head: answered, lingering
            s.sendall(b"NOT HTTP\r\n\r\n")
            s.recv(65536)
        else:  # a reset mid-head
            s.sendall(b"GET / HTTP/1.1\r\n")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass  # refused (503 then a close), reset, or cut by the drain: all lawful here
    finally:
        s.close()


def _storm(proxy, hostport, stop, seed):
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            _one(proxy, hostport, rng)
        except OSError:
            time.sleep(0.01)


def _start(b, o, stop):
    threads = [threading.Thread(target=_storm, args=(b.proxy, o.hostport, stop, n), daemon=True) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    return threads


def test_a_reclaim_storm_with_reloads_and_a_stop_leaves_no_caller_counted(berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    config = tmp_path / "berth.yaml"
    config.write_text("max-callers: 4\n")
    b = berth("--config", str(config), "--workers", "3", "--caller-idle-timeout", "5s")
    stop = threading.Event()
    threads = _start(b, o, stop)
    deadline = time.monotonic() + STORM_SECONDS
    reloads = 0
    while time.monotonic() < deadline:
        config.write_text(f"max-callers: {[2, 6, 3][reloads % 3]}\n")
        b.proc.send_signal(signal.SIGHUP)
        reloads += 1
        time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(10)
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=10, what="the caller gauge back to 0")
    totals = stats(b)["totals"]
    assert totals["callers_reclaimed"] > 0, totals
    # A second storm, stopped by SIGTERM while workers ask each other for room.
    stop = threading.Event()
    threads = _start(b, o, stop)
    time.sleep(1.0)
    b.proc.send_signal(signal.SIGTERM)
    rc = b.proc.wait(timeout=30)
    stop.set()
    for t in threads:
        t.join(10)
    assert rc == 0, b.stderr_text()[-3000:]


def test_callers_past_the_limit_with_none_to_give_way_are_all_refused_at_once(berth, raw_origin):
    """Every caller of all workers is mid-head (never closed for room): a burst of 48 new callers, more than the 16
    each worker keeps while asking the others, is answered 503 too-many-callers, none left waiting; once the heads
    end, the limit is whole again."""
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--workers", "3", "--max-callers", "3", "--caller-idle-timeout", "30s", "--header-timeout", "30s")
    busy = []
    for _ in range(3):
        s = socket.create_connection(b.proxy, timeout=5)
        s.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\nHost: {o.hostport}\r\n".encode())
        busy.append(s)
    wait_for(lambda: stats(b)["totals"]["callers"] == 3, timeout=5, what="three callers mid-head")
    burst = [socket.create_connection(b.proxy, timeout=5) for _ in range(48)]
    answers = []
    for s in burst:
        try:
            answers.append(s.recv(65536).split(b"\r\n", 1)[0])
        except OSError as e:
            answers.append(repr(e).encode())
        s.close()
    assert all(a.startswith(b"HTTP/1.1 503") for a in answers), answers
    for s in busy:
        s.sendall(b"\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        s.close()
    wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=5, what="the caller gauge back to 0")
    s = socket.create_connection(b.proxy, timeout=5)
    s.sendall(f"GET http://{o.hostport}/ok HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    s.close()
