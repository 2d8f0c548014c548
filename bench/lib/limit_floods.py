"""Floods at berth's limits (bench/limit-floods): the loop's CPU and an ordinary caller's worst latency meanwhile.

idle: N silent callers fill --max-callers, then E new callers connect one after another; each closes the caller
      idle longest (Worker.closeOldestIdle).
head: N callers each hold an unfinished head of ~450 bytes (past a 4 MiB --head-memory from ~9,300 on), then each
      sends 200 more bytes twice; every read past the budget answers the largest head (Worker.shedHeadMemory).
One worker; the prober is one keep-alive caller asking a fast origin, one request every 10 ms.
"""
import argparse
import json
import os
import resource
import socket
import threading
import time

from berthkit import Berth, RawOrigin


def cpu_seconds(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def ok(conn):
    while True:
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def run(mode, n, extra):
    o = RawOrigin(ok)
    flags = ["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
             "--workers", "1", "--header-timeout", "120s", "--caller-idle-timeout", "120s"]
    flags += ["--max-callers", str(n + extra + 100), "--head-memory", "4MiB"] if mode == "head" else ["--max-callers", str(n)]
    b = Berth(flags)
    lat, stop = [], threading.Event()

    def prober():
        c = socket.create_connection(b.proxy)
        c.settimeout(30)
        req = f"GET http://{o.hostport}/p HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()
        while not stop.is_set():
            t = time.monotonic()
            c.sendall(req)
            got = b""
            while not got.endswith(b"ok"):
                got += c.recv(4096)
            lat.append(time.monotonic() - t)
            time.sleep(0.01)

    head = f"GET http://{o.hostport}/h HTTP/1.1\r\nHost: {o.hostport}\r\nX-Pad: ".encode() + b"a" * 400
    socks, more = [], []
    try:
        for _ in range(n):
            s = socket.create_connection(b.proxy)
            if mode == "head":
                s.sendall(head)
            socks.append(s)
        time.sleep(1)
        p = threading.Thread(target=prober, daemon=True)
        p.start()
        time.sleep(0.5)
        lat.clear()
        c0, t0 = cpu_seconds(b.pid), time.monotonic()
        if mode == "head":
            for _ in range(2):
                for s in socks:
                    try:
                        s.send(b"a" * 200)
                    except OSError:
                        pass
        else:
            for _ in range(extra):
                more.append(socket.create_connection(b.proxy))
        time.sleep(1.0)
        c1, t1 = cpu_seconds(b.pid), time.monotonic()
        stop.set()
        p.join(30)
        lat.sort()
        return {"mode": mode, "callers": n, "extra": extra if mode == "idle" else 0,
                "berth_cpu_s": round(c1 - c0, 2), "wall_s": round(t1 - t0, 1), "probes": len(lat),
                "probe_p50_ms": round(lat[len(lat) // 2] * 1000, 2), "probe_max_ms": round(lat[-1] * 1000, 1)}
    finally:
        stop.set()
        for s in socks + more:
            s.close()
        b.stop()
        o.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["idle", "head", "both"], default="both")
    ap.add_argument("--n", type=int, default=12000, help="callers held (default 12,000)")
    ap.add_argument("--extra", type=int, default=3000, help="new callers at the limit, idle mode (default 3,000)")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for mode in (["idle", "head"] if args.mode == "both" else [args.mode]):
        print(json.dumps(run(mode, args.n, args.extra)), flush=True)


if __name__ == "__main__":
    main()
