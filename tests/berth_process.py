"""The berth process the suites start: its command line, its ready line (TCP or Unix socket addresses), its stderr."""
import os
import signal
import subprocess
import threading
import time
from processes import stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Absolute, because some tests run berth from a temporary working directory.
BERTH_BIN = os.path.abspath(os.environ.get("BERTH_BIN", os.path.join(ROOT, ".build", "release", "berth")))


def parse_address(text):
    """An address of the ready line as a socket address: (host, port) for `H:P` or `[H]:P`, the path for
    `unix:/path` (what socket.connect takes for AF_INET and AF_UNIX)."""
    if text.startswith("unix:"):
        return text[len("unix:"):]
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def _http_url(address):
    if isinstance(address, str):
        raise ValueError(f"unix:{address} has no http:// URL; talk to it over AF_UNIX")
    return f"http://{address[0]}:{address[1]}"


class Berth:
    """A running berth process, from its first stdout line `berth listening proxy=... admin=...` (`ready_line`):
    `proxy` and `admin` are (host, port) for a TCP listener and the socket path for a `unix:` one.

    `binary` replaces BERTH_BIN (a copy another user may execute), `popen_kw` goes to Popen (user=, group=, ...)."""

    def __init__(self, args, env=None, binary=None, popen_kw=None, cwd=None):
        self.args = [binary or BERTH_BIN] + list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.lines = []  # stderr, line by line, as it arrives
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd,
                                     **(popen_kw or {}))
        line = self._first_line(timeout=20)
        if not line.startswith("berth listening"):
            self.stop()
            stderr = self.proc.stderr.read().decode(errors="replace")
            raise RuntimeError(f"berth did not start: {line!r} stderr={stderr!r}")
        self.ready_line = line
        fields = dict(part.split("=", 1) for part in line.split()[2:])
        self.proxy = parse_address(fields["proxy"])
        self.admin = parse_address(fields["admin"])
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    def _first_line(self, timeout):
        result = {}

        def read():
            result["line"] = self.proc.stdout.readline().decode(errors="replace").strip()

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        return result.get("line", "")

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def stderr_text(self):
        return "".join(self.lines)

    def wait_log(self, needle, timeout=5):
        """The stderr lines that contain `needle`, once there is one; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if needle in line]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no log line with {needle!r} in:\n{self.stderr_text()}")

    @property
    def proxy_url(self):
        return _http_url(self.proxy)

    @property
    def admin_url(self):
        return _http_url(self.admin)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        stop_process(self.proc, grace=timeout, sig=sig)
        return self.proc.returncode
