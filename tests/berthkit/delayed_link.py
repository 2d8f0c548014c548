"""A link with a real round trip where netem is missing: a network namespace reached over two TUN devices, every
packet carried between them by a thread of this process after a fixed delay each way.

`with DelayedLink(delay=0.02) as link:` gives a peer address (`link.peer`, in the namespace) whose packets take
`delay` seconds each way, so TCP's round trip (`tcpi_rtt`) is twice that and a peer's FIN and reset arrive as they do
off loopback (a FIN one way, then a reset a round trip after the request it answers). Sockets made inside
`with link.inside():` belong to the namespace (a listener there, its accepted connections too); berth, outside,
connects to `link.peer`. Needs root and /dev/net/tun; raises LinkUnavailable otherwise (the caller skips). The
namespace and both devices are removed when the block ends, whatever happens in it."""
import contextlib
import ctypes
import fcntl
import heapq
import itertools
import os
import select
import struct
import subprocess
import threading
import time

_TUNSETIFF = 0x400454CA
_IFF_TUN, _IFF_NO_PI = 0x0001, 0x1000
_CLONE_NEWNET = 0x40000000
_COUNTER = itertools.count()
_LIBC = ctypes.CDLL(None, use_errno=True)


class LinkUnavailable(Exception):
    """No TUN device or no namespaces here (not root, no /dev/net/tun): the caller skips."""


def _ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        raise LinkUnavailable(f"ip {' '.join(args)}: {r.stderr.strip()}")


def _tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
    return fd


def _setns(fd):
    if _LIBC.setns(fd, _CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


class DelayedLink:
    """A namespace at `peer` (10.77.N.2) behind a point-to-point link from `local` (10.77.N.1), `delay` s each way."""

    def __init__(self, delay=0.02):
        self.delay = delay
        n = (os.getpid() + next(_COUNTER)) % 250 + 1
        self.ns = f"berthdl{os.getpid()}_{n}"
        self.local, self.peer = f"10.77.{n}.1", f"10.77.{n}.2"
        self._names = (f"bdl{n}a", f"bdl{n}b")
        self._fds = []
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if not os.path.exists("/dev/net/tun") or os.geteuid() != 0:
            raise LinkUnavailable("needs root and /dev/net/tun")
        _ip("netns", "add", self.ns)
        try:
            a, b = self._names
            self._fds = [_tun(a), _tun(b)]
            _ip("link", "set", b, "netns", self.ns)
            _ip("addr", "add", self.local, "peer", self.peer, "dev", a)
            _ip("link", "set", a, "up")
            _ip("-n", self.ns, "addr", "add", self.peer, "peer", self.local, "dev", b)
            _ip("-n", self.ns, "link", "set", b, "up")
            _ip("-n", self.ns, "link", "set", "lo", "up")
        except Exception:
            self.__exit__(None, None, None)
            raise
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for fd in self._fds:
            os.close(fd)  # the root side's device goes with its descriptor
        self._fds = []
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=10)
        return False

    @contextlib.contextmanager
    def inside(self):
        """Sockets made in this block belong to the namespace (this thread only, and only for the block)."""
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        there = os.open(f"/var/run/netns/{self.ns}", os.O_RDONLY)
        try:
            _setns(there)
            try:
                yield
            finally:
                _setns(home)
        finally:
            os.close(there)
            os.close(home)

    def _pump(self):
        """Reads each packet from one device and writes it to the other `delay` later, in order."""
        a, b = self._fds
        due = []  # (when, seq, fd to write, packet)
        seq = itertools.count()
        while not self._stop.is_set():
            wait = 0.05 if not due else max(0.0, min(0.05, due[0][0] - time.monotonic()))
            ready, _, _ = select.select([a, b], [], [], wait)
            for fd in ready:
                packet = os.read(fd, 65536)
                heapq.heappush(due, (time.monotonic() + self.delay, next(seq), b if fd == a else a, packet))
            now = time.monotonic()
            while due and due[0][0] <= now:
                _, _, fd, packet = heapq.heappop(due)
                try:
                    os.write(fd, packet)
                except OSError:
                    pass
