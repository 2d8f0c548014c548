"""The proxies bench/run measures, each started by one function: berth, nginx, HAProxy and the floor relay, with
callers on a loopback TCP port or, for the `-unix` targets, on a Unix socket (the upstream hop is TCP either way).

Each start function returns (Popen, address): a port number, or `unix:/path`.
"""

import os
import shutil

import procs
import proxy_start


def _sock(work, name):
    return os.path.join(work, f"{name}.sock")


def start_berth(work, up_port, cpu, workers=1, unix=False):
    listen = f"unix:{_sock(work, f'berth-w{workers}')}" if unix else "127.0.0.1:0"
    b = proxy_start.start_berth(work, f"berth-w{workers}{'-unix' if unix else ''}", cpu, listen=listen, workers=workers)
    return b.proc, f"unix:{b.proxy}" if unix else b.proxy[1]


def start_berth_b(work, up_port, cpu):
    """A second berth binary ($BERTH_BIN_B, say the previous commit's build) measured in the same rounds as `berth`:
    an A/B of a change, where HAProxy's own figure moves from run to run but both berths see the same machine."""
    binary = os.environ.get("BERTH_BIN_B")
    if not binary or not os.access(binary, os.X_OK):
        raise SystemExit("target berth-b needs BERTH_BIN_B=<path to another berth binary>")
    b = proxy_start.start_berth(work, "berth-b", cpu, binary=binary)
    return b.proc, b.proxy[1]


def start_nginx_proxy(work, up_port, cpu, workers=1, unix=False):
    name = f"nginx-proxy-w{workers}{'-unix' if unix else ''}"
    address = f"unix:{_sock(work, name)}" if unix else procs.free_port()
    listen = address if unix else f"127.0.0.1:{address}"
    p = proxy_start.start_nginx(work, name, cpu, address, listen, f"127.0.0.1:{up_port}", work + "/np", workers=workers)
    return p, address


def start_haproxy(work, up_port, cpu, threads=1, unix=False):
    name = f"haproxy-t{threads}{'-unix' if unix else ''}"
    address = f"unix:{_sock(work, name)}" if unix else procs.free_port()
    # HAProxy takes a path after bind as a Unix socket; mode 600, as berth's admin socket (the load runs as root).
    bind = f"{address[5:]} mode 600" if unix else f"127.0.0.1:{address}"
    p = proxy_start.start_haproxy(work, name, cpu, address, bind, f"127.0.0.1:{up_port}", threads=threads)
    return p, address


def start_floor(work, up_port, cpu, unix=False):
    """The byte-moving floor (bench/floor/floor.c): what the kernel alone charges per request on this machine, for
    callers on TCP or, with `unix`, on a Unix socket."""
    exe = procs.compile_c("floor/floor.c", work, "floor", ["-levent"])
    address = f"unix:{_sock(work, 'floor')}" if unix else procs.free_port()
    name = "floor-unix" if unix else "floor"
    p = procs.start([exe, str(address), str(up_port)], cpu=cpu, stderr=open(os.path.join(work, f"{name}.stderr"), "w"))
    procs.wait_address(address)
    return p, address


def has_cc():
    return any(shutil.which(c) for c in ("cc", "gcc", "clang"))


PROXIES = {
    "berth": start_berth,
    # berth --workers 2: two loops on one port (SO_REUSEPORT). Pinned, both share core 0 (overhead only); with
    # --no-pin they may use both cores.
    "berth2": lambda w, u, c: start_berth(w, u, c, workers=2),
    "berth-b": start_berth_b,
    "nginx": start_nginx_proxy,
    "haproxy": start_haproxy,
    "floor": start_floor,
    # Two workers (nginx worker_processes 2) and two threads (HAProxy nbthread 2), to compare with berth2.
    "nginx2": lambda w, u, c: start_nginx_proxy(w, u, c, workers=2),
    "haproxy2": lambda w, u, c: start_haproxy(w, u, c, threads=2),
    # Callers over a Unix socket (berth --listen unix:, HAProxy bind /path, nginx listen unix:, floor unix:).
    "berth-unix": lambda w, u, c: start_berth(w, u, c, unix=True),
    "berth2-unix": lambda w, u, c: start_berth(w, u, c, workers=2, unix=True),
    "nginx-unix": lambda w, u, c: start_nginx_proxy(w, u, c, unix=True),
    "haproxy-unix": lambda w, u, c: start_haproxy(w, u, c, unix=True),
    "floor-unix": lambda w, u, c: start_floor(w, u, c, unix=True),
}

# The upstream itself, reached without a proxy: over TCP, and over the Unix socket it also listens on.
DIRECT = ("direct", "direct-unix")


def is_unix(target):
    return target.endswith("-unix")


def unix_counterpart(target):
    """The Unix-socket target of a TCP one (berth -> berth-unix), None when there is none."""
    name = f"{target}-unix"
    return name if name in PROXIES or name in DIRECT else None
