"""A process the cgroup v2 freezer cannot stop, for freezes that never complete: it waits, killable only, on a lookup
in a FUSE file system whose INIT is never answered (mounted in a mount namespace of its own, so nothing else sees
it). A cgroup holding it reads `cgroup.freeze 1` but `frozen 0` for as long as it waits, while its other processes
are frozen: what a container with a task in uninterruptible sleep shows while `docker pause` (runc) waits.

`with Unfreezable(cgroup_dir):` puts the waiting process into that cgroup; the block's end lets it go (the FUSE
device closed: the lookup fails and the process exits) and waits for it. Thaw the cgroup first, or the process is
frozen on its way out. Needs root and /dev/fuse (`unavailable()` says why not).
"""
import ctypes
import os
import subprocess
import sys
import tempfile
import time

CLONE_NEWNS = 0x20000
MS_REC, MS_PRIVATE = 1 << 14, 1 << 18
MS_NOSUID, MS_NODEV = 2, 4
MNT_DETACH = 2


def unavailable():
    """Why no unfreezable process can be made here, or None."""
    if os.geteuid() != 0:
        return "a FUSE mount in a mount namespace of its own needs root"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse here"
    return None


def _waiting_in_fuse(pid):
    """Where the process waits, when it is in the FUSE wait (`fuse_get_req`, ...); else None. The move into the
    cgroup waits uninterruptibly too (synchronize_rcu), so the state D alone does not say it."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            where = f.read()
    except OSError:
        return None
    return where if where.startswith("fuse") else None


class Unfreezable:
    """The helper process (this file run as a script) and the waiting child it forked into `cgroup`."""

    def __init__(self, cgroup, timeout=10):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), cgroup], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.close()
            raise AssertionError(f"unfreezable helper did not start: {line!r} {self.proc.stderr.read()!r}")
        self.pid = int(line)
        deadline = time.monotonic() + timeout
        while not _waiting_in_fuse(self.pid):
            if time.monotonic() > deadline:
                self.close()
                raise AssertionError(f"process {self.pid} never waited in its FUSE lookup")
            time.sleep(0.01)

    def close(self):
        """Lets the child go and waits for both; SIGKILL (which a killable wait takes) if they outstay 10 s."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            for pid in (getattr(self, "pid", None), self.proc.pid):
                if pid:
                    try:
                        os.kill(pid, 9)
                    except ProcessLookupError:
                        pass
            self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _main(cgroup):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    if libc.unshare(CLONE_NEWNS) != 0 or libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        sys.exit(f"mount namespace: errno {ctypes.get_errno()}")
    where = tempfile.mkdtemp(prefix="berth-unfreezable-")
    fd = os.open("/dev/fuse", os.O_RDWR)
    opts = f"fd={fd},rootmode=40000,user_id=0,group_id=0".encode()
    if libc.mount(b"berth-unfreezable", where.encode(), b"fuse", MS_NOSUID | MS_NODEV, opts) != 0:
        sys.exit(f"fuse mount: errno {ctypes.get_errno()}")
    child = os.fork()
    if child == 0:
        os.close(fd)
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        try:
            os.stat(os.path.join(where, "never"))  # waits for INIT, killable only
        except OSError:
            pass
        os._exit(0)
    print(child, flush=True)
    sys.stdin.read()
    os.close(fd)  # the last descriptor of the connection: it is aborted, the lookup fails
    os.waitpid(child, 0)
    libc.umount2(where.encode(), MNT_DETACH)
    os.rmdir(where)


if __name__ == "__main__":
    _main(sys.argv[1])
