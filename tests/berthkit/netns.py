"""A network namespace of a test's own (`ip netns add`), its loopback up: berth runs inside it (`wrapper`), sockets
are made inside it from a thread that joined it (a socket stays in the namespace it was made in), nftables and
routes there touch nothing outside, and the namespace, with every table and route in it, is removed at the end."""
import ctypes
import itertools
import os
import shutil
import subprocess
import threading

CLONE_NEWNET = 0x40000000
_COUNTER = itertools.count()


def unavailable():
    """Why a test cannot have a namespace of its own here (root, ip(8) and nft(8) are needed), or None."""
    if os.geteuid() != 0:
        return "a network namespace of its own needs root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y iproute2 nftables)"
    return None


class NetNamespace:
    """`with NetNamespace() as ns:`; `ns.wrapper` runs a command inside, `ns.inside(fn)` calls fn in a thread that
    joined it, `ns.run(*argv)` runs a tool there."""

    def __init__(self):
        self.name = f"berth_test_{os.getpid()}_{next(_COUNTER)}"
        self.wrapper = ["ip", "netns", "exec", self.name]
        subprocess.run(["ip", "netns", "add", self.name], check=True, timeout=10)
        try:
            self.run("ip", "link", "set", "lo", "up")
        except Exception:
            self.close()
            raise

    def run(self, *argv):
        """Runs argv inside the namespace; raises with its stderr when it fails."""
        r = subprocess.run([*self.wrapper, *argv], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, (argv, r.stderr)
        return r.stdout

    def inside(self, fn):
        """fn() called on a thread that joined the namespace (setns affects only the calling thread); its result."""
        out = {}

        def call():
            fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
            try:
                if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
                    out["error"] = OSError(ctypes.get_errno(), "setns")
                    return
            finally:
                os.close(fd)
            try:
                out["value"] = fn()
            except Exception as e:  # noqa: BLE001 - handed to the caller's thread
                out["error"] = e

        t = threading.Thread(target=call)
        t.start()
        t.join(30)
        if "error" in out:
            raise out["error"]
        return out["value"]

    def close(self):
        """Deletes the namespace (its routes and nftables tables go with it); idempotent."""
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
