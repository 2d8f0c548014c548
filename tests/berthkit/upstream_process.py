"""Origin processes of their own (Node or Python, tests/e2e/upstreams) that can be frozen with SIGSTOP as
`docker pause` freezes a container; each started here and stopped by its PID. Also the machine a run was on."""
import os
import signal
import subprocess
import sys
import threading
import time

from .process import ROOT, stop_process

UPSTREAMS = os.path.join(ROOT, "tests", "e2e", "upstreams")


def machine():
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = "?"
    return f"{os.uname().sysname} {os.uname().release}, {os.cpu_count()} cores ({model})"


class UpstreamProcess:
    """A separate origin process (Node or Python) that can be frozen with SIGSTOP like `docker pause`."""

    def __init__(self, argv, name, on_freeze=None):
        self.name = name
        self.on_freeze = on_freeze  # called with the name on each freeze (tests/e2e counts faults with it)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self._readline(10)
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"{name} did not start: {line!r}")
        self.port = int(line.split()[1])
        self.hostport = f"127.0.0.1:{self.port}"
        self.frozen = False

    def _readline(self, timeout):
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("l", self.proc.stdout.readline().decode().strip()),
                             daemon=True)
        t.start()
        t.join(timeout)
        return out.get("l", "")

    @property
    def pid(self):
        return self.proc.pid

    def freeze(self):
        os.kill(self.proc.pid, signal.SIGSTOP)
        # SIGSTOP lands asynchronously: on a busy machine the server could still answer a request sent right after.
        # Wait (bounded) until every thread shows as stopped, as a frozen cgroup would be.
        deadline = time.monotonic() + 5.0
        while not self._all_threads_stopped() and time.monotonic() < deadline:
            time.sleep(0.001)
        self.frozen = True
        if self.on_freeze:
            self.on_freeze(self.name)

    def _all_threads_stopped(self):
        task = f"/proc/{self.proc.pid}/task"
        try:
            for tid in os.listdir(task):
                with open(f"{task}/{tid}/stat") as f:
                    st = f.read()
                if st[st.rindex(")") + 2] not in "Tt":
                    return False
        except OSError:
            return False
        return True

    def thaw(self):
        os.kill(self.proc.pid, signal.SIGCONT)
        self.frozen = False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def stop(self):
        if self.proc.poll() is None and self.frozen:
            self.thaw()
        stop_process(self.proc, grace=5)


def node_upstream(keepalive_ms, on_freeze=None):
    return UpstreamProcess(["node", os.path.join(UPSTREAMS, "node_server.js"), str(keepalive_ms)],
                           f"node keepAliveTimeout={keepalive_ms}ms", on_freeze)


def python_upstream(keepalive_s, delay_ms=0, on_freeze=None):
    return UpstreamProcess([sys.executable, os.path.join(UPSTREAMS, "py_server.py"), str(keepalive_s),
                            str(delay_ms)], f"python keep-alive={keepalive_s}s", on_freeze)
