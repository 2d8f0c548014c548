"""Workers that log to one slowly read stderr pipe never wait in write(2) for its reader (h-left).

`StderrWriter` polls stderr and writes a line only when the poll says it takes bytes: a pipe with a free page takes a
line of up to PIPE_BUF at once. With --workers N each worker did so on its own, and the page one worker's poll saw
could be taken by another worker's line before its write: that write then slept in the kernel until the log reader
read, the worker's loop and all its callers with it (seen without help: a worker asleep in write(2) in 2 of 2 runs
of a slowly read pipe). The poll and write are one step across the process now. A preloaded `poll` that sleeps 20 ms
after finding stderr writable widens the gap so that every freed page is raced for."""
import glob
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from berthkit.process import spawn, stop_process, parse_ready_line

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <time.h>
int poll(struct pollfd *fds, nfds_t n, int timeout) {
    static int (*real)(struct pollfd *, nfds_t, int);
    if (!real) real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
    int r = real(fds, n, timeout);
    if (r == 1 && n == 1 && fds[0].fd == 2 && (fds[0].revents & POLLOUT)) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, 0);
    }
    return r;
}
"""


def _shim(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        pytest.skip("no C compiler for the poll shim")
    (tmp_path / "slowpoll.c").write_text(SHIM)
    out = tmp_path / "slowpoll.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(out), str(tmp_path / "slowpoll.c"), "-ldl"], check=True)
    return str(out)


def _origin():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve(conn):
        buf = b""
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def _asleep_in_write(pid):
    """Threads of `pid` asleep inside write(2) now."""
    n = 0
    for path in glob.glob(f"/proc/{pid}/task/*/syscall"):
        try:
            if open(path).read().split()[0] == "1" and \
                    open(path.replace("syscall", "stat")).read().rsplit(")", 1)[1].split()[0] in "SD":
                n += 1
        except (OSError, IndexError):
            pass
    return n


def test_workers_logging_to_a_slow_pipe_never_sleep_in_write(tmp_path):
    if not os.path.exists(f"/proc/{os.getpid()}/syscall"):
        pytest.skip("no /proc/PID/syscall")
    shim = _shim(tmp_path)
    listener = _origin()
    oport = listener.getsockname()[1]
    proc = spawn(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
                  "--workers", "2", "--access-log", "--log-format", "json"],
                 env={"LD_PRELOAD": shim}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop = threading.Event()
    answered = {}
    threads = []
    try:
        proxy, admin = parse_ready_line(proc.stdout.readline().decode())

        def quiet(body):
            # The threads end at berth's stop, their connections cut: that is no finding.
            def run(*args):
                try:
                    body(*args)
                except OSError:
                    pass
            return run

        @quiet
        def caller(i):
            # Long targets: access lines of about 1 KB, so that few share a page of the pipe.
            req = (f"GET http://127.0.0.1:{oport}/{'a' * 300}?{'b' * 300} HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{oport}\r\n\r\n").encode()
            with socket.create_connection(proxy, timeout=30) as s:
                while not stop.is_set():
                    s.sendall(req)
                    got = b""
                    while not got.endswith(b"ok"):
                        data = s.recv(4096)
                        if not data:
                            return
                        got += data
                    answered[i] = answered.get(i, 0) + 1

        @quiet
        def auditor():
            # Admin commands on the home worker log audit lines of 3.8 KB: one of them never shares a page.
            req = (f"POST /evict?upstream=127.0.0.1:{'9' * 3700} HTTP/1.1\r\nHost: {admin[0]}:{admin[1]}\r\n"
                   "Content-Length: 0\r\n\r\n").encode()
            with socket.create_connection(admin, timeout=30) as s:
                while not stop.is_set():
                    s.sendall(req)
                    if not s.recv(65536):
                        return

        threads += [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(8)]
        threads.append(threading.Thread(target=auditor, daemon=True))
        for t in threads:
            t.start()
        fd = proc.stderr.fileno()
        asleep = 0
        # The pipe fills; then a page is read every 100 ms (bounded: 30 pages), and the workers race for it.
        for _ in range(30):
            os.read(fd, 4096)
            for _ in range(100):
                asleep += _asleep_in_write(proc.pid)
                time.sleep(0.001)
        # The reader stops: a worker asleep in write(2) now stays there, and its callers with it.
        before = dict(answered)
        time.sleep(1.5)
        stalled = [i for i in range(8) if answered.get(i, 0) == before.get(i, 0)]
        assert asleep == 0 and stalled == [] and _asleep_in_write(proc.pid) == 0, (asleep, stalled)
    finally:
        stop.set()
        stop_process(proc, sig=9)
        for t in threads:
            t.join(5)
        listener.close()
