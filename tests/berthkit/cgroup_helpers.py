"""Real cgroups for the freezer tests: find a writable cgroup v2 mount (and a v1 freezer) in /proc/mounts, make
cgroups under one directory per run, move processes in, freeze and thaw them as runc does for `docker pause`
(write cgroup.freeze, then wait for `frozen 1` in cgroup.events), and remove everything made.

Every wait is bounded; nothing here touches a cgroup it did not create. The directories' names start with
BERTH_CGROUP_PREFIX ("berth" unless set), so a run sharing a machine can keep to a prefix of its own.
"""
import os
import time
import uuid

FREEZE_TIMEOUT = 5.0
PREFIX = os.environ.get("BERTH_CGROUP_PREFIX", "berth")


def _mounts(fstype, option=None):
    """Mount points of `fstype` (with `option` among the mount options), in /proc/mounts order."""
    out = []
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 4 and parts[2] == fstype and (option is None or option in parts[3].split(",")):
                out.append(parts[1])
    return out


def _writable(root, probe_file):
    """None when a child cgroup can be made and removed under root; else why not."""
    if not os.access(root, os.W_OK):
        return f"{root} is not writable (run as root, or delegate a subtree)"
    probe = os.path.join(root, f"{PREFIX}-probe-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    try:
        os.mkdir(probe)
        ok = os.path.exists(os.path.join(probe, probe_file))
        os.rmdir(probe)
    except OSError as e:
        return f"cannot make a cgroup under {root}: {e}"
    return None if ok else f"a new cgroup under {root} has no {probe_file}"


def cgroup2_root():
    """(mount point, None) for a writable cgroup v2 hierarchy with the freezer, or (None, reason)."""
    roots = _mounts("cgroup2")
    if not roots:
        return None, "no cgroup2 mount in /proc/mounts"
    reason = _writable(roots[0], "cgroup.freeze")
    return (None, reason) if reason else (roots[0], None)


def freezer_v1_root():
    """(mount point, None) for a writable cgroup v1 freezer hierarchy, or (None, reason)."""
    roots = _mounts("cgroup", "freezer")
    if not roots:
        return None, "no cgroup v1 freezer mount in /proc/mounts"
    reason = _writable(roots[0], "freezer.state")
    return (None, reason) if reason else (roots[0], None)


class Cgroup:
    """One cgroup this run made."""

    def __init__(self, tree, path):
        self.tree, self.path, self.version = tree, path, tree.version

    def add(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def pids(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    def frozen(self):
        if self.version == 2:
            with open(os.path.join(self.path, "cgroup.events")) as f:
                return "frozen 1" in f.read().splitlines()
        with open(os.path.join(self.path, "freezer.state")) as f:
            return f.read().strip() == "FROZEN"

    def ask(self, frozen):
        """Writes the freeze (or thaw) and returns at once, without waiting for the kernel to finish it."""
        if self.version == 2:
            with open(os.path.join(self.path, "cgroup.freeze"), "w") as f:
                f.write("1" if frozen else "0")
        else:
            with open(os.path.join(self.path, "freezer.state"), "w") as f:
                f.write("FROZEN" if frozen else "THAWED")

    def _set(self, frozen, timeout):
        if self.version == 2:
            with open(os.path.join(self.path, "cgroup.freeze"), "w") as f:
                f.write("1" if frozen else "0")
        else:
            with open(os.path.join(self.path, "freezer.state"), "w") as f:
                f.write("FROZEN" if frozen else "THAWED")
        # As runc does: the write starts the change; it is done when the kernel reports it.
        deadline = time.monotonic() + timeout
        while self.frozen() != frozen:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.path} not {'frozen' if frozen else 'thawed'} after {timeout}s")
            time.sleep(0.0005)

    def freeze(self, timeout=FREEZE_TIMEOUT):
        self._set(True, timeout)

    def thaw(self, timeout=FREEZE_TIMEOUT):
        self._set(False, timeout)

    def remove(self):
        """Thaws, moves every process back to the hierarchy's root, and removes the directory."""
        if not os.path.isdir(self.path):
            return
        try:
            if self.frozen():
                self.thaw()
        except OSError:
            pass
        for pid in self.pids():
            try:
                with open(os.path.join(self.tree.root, "cgroup.procs"), "w") as f:
                    f.write(str(pid))
            except OSError:
                pass  # it exited meanwhile
        deadline = time.monotonic() + 5
        while True:
            try:
                os.rmdir(self.path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


class CgroupTree:
    """A directory of cgroups for one test, under a hierarchy's root; `close` removes all of it."""

    def __init__(self, root, version):
        self.root, self.version = root, version
        self.path = os.path.join(root, f"{PREFIX}-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        os.mkdir(self.path)
        self.made = []

    def make(self, name):
        path = os.path.join(self.path, name)
        os.mkdir(path)
        c = Cgroup(self, path)
        self.made.append(c)
        return c

    def close(self):
        for c in reversed(self.made):
            c.remove()
        os.rmdir(self.path)
