#!/usr/bin/env python3
"""Timing chaos against one berth (review7): the session fuzzer drives one caller at a time and never an admin
command, so the orders it makes are those of one connection. This drives many at once, with the events that arrive
from elsewhere: /pause (hold, reject, drain), /resume?prewarm=N, /evict (idle_for, forget=true), SIGHUP reloads that
change the limits, callers that vanish while queued, connecting or tunnelling, upstreams that close at once, answer
slowly or reset, and a SIGTERM during all of it; also (floods) a max-callers limit the callers reach, so idle and
lingering callers are closed for room across workers, /pause?drain= whose client hangs up at once, and freezer
watches of a stand-in cgroup that freezes and thaws. Seeded and bounded in time. The only invariant is the one a trap
breaks: berth is alive after every round, answers /healthz, and exits 0 (not by a signal) on the final SIGTERM.
Usage: fuzz/session/chaos.sh --seconds 120 [--seed 1] [--workers 2] [--berth PATH]. Exit 0 when berth survived, 1 otherwise."""
import argparse
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time

from berthkit import Berth


class Origin:
    """A loopback origin whose behaviour per connection is drawn from `rng`: answer keep-alive, answer slowly, close
    at once, reset, or answer then close; also the CONNECT target (it echoes)."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            mode = self.rng.choice(["keep", "keep", "keep", "slow", "close", "reset", "once"])
            threading.Thread(target=self._serve, args=(c, mode), daemon=True).start()

    def _serve(self, c, mode):
        c.settimeout(3)
        try:
            if mode == "close":
                return
            if mode == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                return
            buf = b""
            while True:
                d = c.recv(65536)
                if not d:
                    return
                buf += d
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    if head.startswith(b"CONNECT") or b"tunnel" in head:
                        c.sendall(buf)  # an echo for whatever follows
                        buf = b""
                        continue
                    if mode == "slow":
                        time.sleep(0.05)
                    body = b"x" * 100
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body)
                    if mode == "once":
                        return
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass


ANSWERS = {}


def caller(proxy, origins, rng, stop):
    """One caller: a few requests of a random kind, often abandoned half way."""
    while not stop.is_set():
        o = rng.choice(origins)
        hp = f"127.0.0.1:{o.port}"
        kind = rng.choice(["get", "get", "post", "pipeline", "connect", "abandon", "halfclose", "badchunk", "generation"])
        try:
            s = socket.create_connection(proxy, timeout=2)
            s.settimeout(2)
            if kind == "get":
                s.sendall(f"GET http://{hp}/a HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode())
            elif kind == "post":
                s.sendall(f"POST http://{hp}/p HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 5000\r\n\r\n".encode()
                          + b"y" * rng.choice([0, 100, 5000]))
            elif kind == "pipeline":
                s.sendall(f"GET http://{hp}/1 HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode() * rng.randint(2, 6))
            elif kind == "generation":
                # A container replaced at its address: each new name moves the pool's epoch, closing idle connections.
                s.sendall(f"GET http://{hp}/g HTTP/1.1\r\nHost: {hp}\r\nBerth-Generation: c{rng.randint(1, 4)}\r\n\r\n".encode())
            elif kind == "connect":
                s.sendall(f"CONNECT {hp} HTTP/1.1\r\nHost: {hp}\r\n\r\nhello".encode())
            elif kind == "abandon":
                s.sendall(f"GET http://{hp}/z HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode())
                time.sleep(rng.choice([0, 0.001, 0.01, 0.05]))
                if rng.random() < 0.5:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
                continue
            elif kind == "halfclose":
                s.sendall(f"POST http://{hp}/h HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 3\r\n\r\nabc".encode())
                s.shutdown(socket.SHUT_WR)
            elif kind == "badchunk":
                s.sendall(f"POST http://{hp}/c HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nhello\r\n0\r\n\r\n".encode())
            deadline = time.monotonic() + rng.choice([0.01, 0.1, 0.5, 1.5])
            got = b""
            while time.monotonic() < deadline:
                try:
                    d = s.recv(65536)
                except socket.timeout:
                    break
                if not d:
                    break
                got += d
            status = got[9:12].decode(errors="replace") if got.startswith(b"HTTP/1.1 ") else "none"
            ANSWERS[status] = ANSWERS.get(status, 0) + 1
            if rng.random() < 0.3:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        except OSError:
            time.sleep(0.01)


def admin_call(admin, method, target):
    try:
        s = socket.create_connection(admin, timeout=3)
        s.settimeout(3)
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
        s.close()
        return out
    except OSError:
        return b""


def admin_abandon(admin, target):
    """A POST whose client hangs up before the answer (a /pause?drain= left waiting)."""
    try:
        s = socket.create_connection(admin, timeout=3)
        s.sendall(f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
        s.close()
    except OSError:
        pass


def cgroup_stand_in(work):
    """A directory with a cgroup v2 `cgroup.events`, which /watch takes for a cgroup; returns it."""
    d = os.path.join(work, "cg")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "cgroup.events"), "w") as f:
        f.write("populated 1\nfrozen 0\n")
    return d


def operator(b, config, origins, rng, stop, workers=1, cgroup=None):
    """Admin commands and reloads, at random."""
    while not stop.is_set():
        o = rng.choice(origins)
        up = f"127.0.0.1:{o.port}"
        r = rng.random()
        if cgroup and r < 0.06:
            if r < 0.02:
                admin_call(b.admin, "POST", f"/watch?upstream={up}&cgroup={cgroup}")
            elif r < 0.04:
                admin_call(b.admin, "POST", f"/unwatch?upstream={up}")
            else:
                with open(os.path.join(cgroup, "cgroup.events"), "w") as f:
                    f.write(f"populated 1\nfrozen {rng.choice([0, 1])}\n")
        elif r < 0.08:
            admin_abandon(b.admin, f"/pause?upstream={up}&drain={rng.choice(['1s', '1h'])}")
        elif r < 0.2:
            mode = rng.choice(["", "&mode=reject", "&hold=200ms", "&drain=100ms", "&drain=50ms&hold=1s"])
            admin_call(b.admin, "POST", f"/pause?upstream={up}{mode}")
        elif r < 0.4:
            admin_call(b.admin, "POST", f"/resume?upstream={up}&prewarm={rng.choice([0, 1, 3, 10, 200])}")
        elif r < 0.55:
            # idle_for= with forget=true leaves young idle connections in an entry marked to forget.
            q = rng.choice(["&forget=true", "&idle_for=0s", "&idle_for=10ms", "", "&idle_for=1h&forget=true",
                            "&idle_for=50ms&forget=true"])
            admin_call(b.admin, "POST", f"/evict?upstream={up}{q}")
        elif r < 0.6:
            admin_call(b.admin, "POST", "/evict")
        elif r < 0.7:
            admin_call(b.admin, "GET", rng.choice(["/stats", "/stats?limit=2&sort=pending", "/metrics",
                                                 f"/stats?upstream={up}"]))
        elif r < 0.8:
            # Each worker owns a share of every limit, so none may be below the worker count.
            total = max(workers, rng.choice([2, 4, 8, 50]))
            route = max(workers, rng.choice([2, 3, total]))
            config.write_text(f"max-total: {total}\nmax-per-route: {min(route, total)}\n"
                              f"max-pending: {max(workers, rng.choice([2, 3, 10, 100]))}\n"
                              f"acquire-timeout: {rng.choice(['20ms', '200ms', '1s'])}\n"
                              f"connect-port: [{', '.join(str(x.port) for x in origins)}]\n"
                              # A limit the callers reach: idle and lingering callers are closed for room, across workers.
                              + (f"max-callers: {rng.choice([2, 4, 8]) * workers}\n" if rng.random() < 0.5 else ""))
            b.proc.send_signal(signal.SIGHUP)
        time.sleep(rng.choice([0, 0.001, 0.01, 0.05]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--callers", type=int, default=12)
    ap.add_argument("--round", type=float, default=10, help="seconds per berth instance before its SIGTERM")
    ap.add_argument("--berth", default=os.environ.get("BERTH_BIN", ".build/release/berth"))
    args = ap.parse_args()
    rng = random.Random(args.seed)
    origins = [Origin(rng.random()) for _ in range(3)]
    ports = [str(o.port) for o in origins]
    work = tempfile.mkdtemp(prefix="berth-chaos-")
    t_end = time.monotonic() + args.seconds
    rounds = 0
    while time.monotonic() < t_end:
        rounds += 1
        config = __import__("pathlib").Path(work) / "berth.yaml"
        w = args.workers
        config.write_text(f"max-total: {4 * w}\nmax-per-route: {2 * w}\nmax-pending: {10 * w}\nconnect-port: [{', '.join(ports)}]\n")
        log = os.path.join(work, f"berth-{rounds}.stderr")
        b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                   "--workers", str(args.workers), "--config", str(config), "--allow", "127.0.0.0/8",
                   "--socket-timeout", "300ms", "--connect-timeout", "200ms", "--header-timeout", "500ms",
                   "--caller-idle-timeout", "1s", "--drain-timeout", rng.choice(["100ms", "500ms", "2s"]),
                   "--log-level", "error"], binary=args.berth, log_path=log)
        stop = threading.Event()
        threads = [threading.Thread(target=caller, args=(b.proxy, origins, random.Random(rng.random()), stop), daemon=True)
                   for _ in range(args.callers)]
        threads.append(threading.Thread(target=operator, args=(b, config, origins, random.Random(rng.random()), stop, args.workers,
                                                               cgroup_stand_in(work)), daemon=True))
        for t in threads:
            t.start()
        round_end = min(t_end, time.monotonic() + args.round)
        dead = None
        while time.monotonic() < round_end:
            time.sleep(0.5)
            if b.proc.poll() is not None:
                dead = b.proc.returncode
                break
        if dead is None:
            # SIGTERM while the callers and the operator still run: the drain meets every state.
            b.proc.send_signal(signal.SIGTERM)
            try:
                dead = b.proc.wait(30)
            except Exception:
                dead = "hung"
        stop.set()
        served = sum(1 for line in open(log, errors="replace") if "reload failed" in line)
        for t in threads:
            t.join(5)
        if dead != 0:
            print(f"round {rounds}: berth ended with {dead}; stderr in {log}")
            print(open(log, errors="replace").read()[-4000:])
            return 1
        print(f"round {rounds}: ok (exit 0; {served} reloads refused; first statuses so far {ANSWERS})", flush=True)
    print(f"{rounds} rounds, berth survived every one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
