"""Review 10: a bounded storm over the session lists (idle callers closed at max-callers, unfinished heads answered
at head-memory, both workers asked for room) and over large heads given back between requests, while keep-alive
callers pipeline a large head behind a small one and check every answer (and every byte of the large request
field the origin saw). Run against an ASan build (BERTH_BIN=.build/asan/debug/berth, ASAN_OPTIONS log_path=...) it
is review 10's probe (docs/reliability.md, after the bugs found)."""
import random
import socket
import threading
import time

from berthkit import RawClient, get_req, keepalive_loop, run_threads, stats, wait_for

BIG = 20_000  # header bytes: past HeadBuffers.kept (8 KiB), under the 64 KiB head limit


def _origin_answers(conn, msg):
    # The path comes back as the body; /big also gets a large response head.
    extra = (("X-Big", "r" * BIG),) if msg.target.endswith("/big") else ()
    pad = msg.header("X-Pad", "")
    # What reached the origin of the request's large field: its length, and whether every byte is intact.
    extra += (("X-Pad-Seen", f"{len(pad)}:{pad == 'h' * len(pad)}"),)
    conn.respond(200, msg.target.encode(), headers=extra)


def _pipeliner(b, origin, seconds, rng, bad):
    """Keep-alive callers sending a small and a large head (and a large response) in one write; every answer that
    comes is the right one, in order, or berth's own error before a close."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c = RawClient(b.proxy, timeout=10)
        except OSError:
            continue
        try:
            for round_ in range(rng.randint(1, 6)):
                paths = [f"/p{rng.randrange(10**6)}", f"/q{rng.randrange(10**6)}/big"]
                rng.shuffle(paths)
                pads = [BIG if rng.random() < 0.6 else 0 for _ in paths]
                data = b"".join(get_req(origin.hostport, p, extra=(f"X-Pad: {'h' * n}\r\n".encode() if n else b""))
                                for p, n in zip(paths, pads))
                cut = rng.randrange(1, len(data))
                c.sendall(data[:cut])
                if rng.random() < 0.3:
                    time.sleep(0.01)
                c.sendall(data[cut:])
                for p, n in zip(paths, pads):
                    r = c.read_response()
                    if r.status != 200:
                        # berth's own answer (too-many-callers, head-memory): the connection ends after it.
                        if not r.has_header("Berth-Error"):
                            bad.append(("not berth's", p, r))
                        raise EOFError
                    if r.body != f"http://{origin.hostport}{p}".encode() and r.body != p.encode():
                        bad.append(("wrong body", p, r))
                    if r.header("X-Pad-Seen") != f"{n}:True":
                        bad.append(("request head cut", p, n, r.header("X-Pad-Seen")))
                    if p.endswith("/big") and r.header("X-Big") != "r" * BIG:
                        bad.append(("response head cut", p, r.header("X-Big", "")[:40]))
                time.sleep(rng.random() * 0.02)
        except (EOFError, OSError):
            pass
        except AssertionError as e:  # a status line that is none: the answers' byte stream was broken
            bad.append(("broken stream", str(e)[:200]))
        finally:
            c.close()


def _idler(b, seconds, rng):
    """Callers that connect and sit silent, or send part of a head (a growing one) and stop, or close."""
    end = time.monotonic() + seconds
    held = []
    while time.monotonic() < end:
        try:
            s = socket.create_connection(b.proxy, timeout=2)
        except OSError:
            continue
        held.append(s)
        k = rng.random()
        try:
            if k < 0.5:
                s.sendall(b"GET http://10.1.1.1:80/ HTTP/1.1\r\nX-Slow: " + b"s" * rng.randrange(1, 30_000))
        except OSError:
            pass
        if len(held) > 40 or rng.random() < 0.2:
            victim = held.pop(rng.randrange(len(held)))
            try:
                if rng.random() < 0.5:
                    victim.sendall(b"t" * rng.randrange(1, 20_000))
            except OSError:
                pass
            victim.close()
        time.sleep(rng.random() * 0.005)
    for s in held:
        s.close()


def _storm(b, o, *, seed, threads, rounds, also=None):
    """`threads` pipeliners and as many idlers (each `rounds` rounds, seeded from `seed`) against berth at once, with
    `also` run beside them: none may fail, and every answer must be the right one."""
    bad = []
    rng = random.Random(seed)
    seeds = [rng.randrange(1 << 30) for _ in range(2 * threads)]
    jobs = [lambda s=s: _pipeliner(b, o, rounds, random.Random(s), bad) for s in seeds[:threads]]
    jobs += [lambda s=s: _idler(b, rounds, random.Random(s)) for s in seeds[threads:]]
    if also is not None:
        jobs.append(also)
    failed = [r for r in run_threads(jobs, timeout=60) if isinstance(r, Exception)]
    assert not failed and not bad, (failed, bad[:5])


def test_callers_at_max_callers_and_head_memory_get_right_answers_and_none_is_lost(berth, raw_origin):
    o = raw_origin(keepalive_loop(_origin_answers))
    b = berth("--workers", "2", "--max-callers", "48", "--head-memory", "256KiB", "--header-timeout", "3s")
    _storm(b, o, seed=10, threads=5, rounds=8)
    totals = stats(b)["totals"]
    assert totals["callers_reclaimed"] > 0 and totals["errors"]["head-memory"] > 0, totals
    # Every session ended and left the lists: the callers gauge is back to zero and berth still answers.
    wait_for(lambda: stats(b)["totals"].get("callers", 0) == 0, timeout=10, what="callers back to 0")
    r = RawClient(b.proxy).request(get_req(o.hostport, "/last/big"))
    assert r.status == 200 and r.header("X-Big") == "r" * BIG, r


def test_a_drain_in_the_middle_of_the_storm_ends_every_session(berth, raw_origin):
    o = raw_origin(keepalive_loop(_origin_answers))
    b = berth("--workers", "2", "--max-callers", "48", "--head-memory", "256KiB", "--drain-timeout", "2s")
    _storm(b, o, seed=11, threads=4, rounds=4, also=lambda: (time.sleep(2), b.stop(timeout=10)))
    assert b.proc.returncode == 0, b.proc.returncode
