"""The one way tests, bench and fuzz start berth: its command line, its ready line (TCP or Unix addresses), its log,
and a bounded stop of exactly the process started (by PID, never by name)."""
import os
import select
import signal
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Absolute, because some tests run berth from a temporary working directory.
BERTH_BIN = os.path.abspath(os.environ.get("BERTH_BIN", os.path.join(ROOT, ".build", "release", "berth")))
READY_PREFIX = "berth listening"
# The flags a test berth listens with when it names no others: loopback ports the kernel picks.
LOOPBACK_FLAGS = ("--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0")


def spawn(args, env=None, binary=None, wrapper=(), **popen_kw):
    """berth (or `berth ctl`, `check-config`) started and left as it is: nothing is read and nothing waited for. For
    tests of what happens before the ready line (a signal at exec, a stderr nobody reads, a start that must fail) and
    for `Berth` itself. `env` adds to this process's environment; the caller owns the process (`stop_process`)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen([*wrapper, binary or BERTH_BIN, *args], env=full_env, **popen_kw)


def stop_process(proc, grace=15, sig=signal.SIGTERM):
    """Sends `sig` to a running `proc`, waits up to `grace` seconds, then kills it (its PID) and waits up to 5 more."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def parse_address(text):
    """An address of the ready line as a socket address: (host, port) for `H:P` or `[H]:P`, the path for
    `unix:/path` (what socket.connect takes for AF_INET and AF_UNIX)."""
    if text.startswith("unix:"):
        return text[len("unix:"):]
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def parse_ready_line(line):
    """`berth listening proxy=A admin=B` -> (proxy, admin) as parse_address gives them; ValueError for anything else."""
    if not line.startswith(READY_PREFIX):
        raise ValueError(f"not berth's ready line: {line!r}")
    fields = dict(part.split("=", 1) for part in line.split()[2:])
    return parse_address(fields["proxy"]), parse_address(fields["admin"])


def _http_url(address):
    if isinstance(address, str):
        raise ValueError(f"unix:{address} has no http:// URL; talk to it over AF_UNIX")
    return f"http://{address[0]}:{address[1]}"


def _read_first_line(stream, timeout):
    """The first line of a pipe, read without blocking past `timeout` seconds ('' when none came)."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = stream.fileno()
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode(errors="replace").strip()


class BerthDidNotStart(RuntimeError):
    """berth printed no ready line: `returncode` (its exit status, or the signal that stopped it) and `stderr`."""

    def __init__(self, message, returncode, stderr):
        super().__init__(message)
        self.returncode, self.stderr = returncode, stderr


class Berth:
    """A running berth process, from its first stdout line `berth listening proxy=... admin=...` (`ready_line`):
    `proxy` and `admin` are (host, port) for a TCP listener and the socket path for a `unix:` one.

    `args` are berth's flags. `binary` replaces BERTH_BIN (a copy another user may execute); `wrapper` goes before it
    (valgrind, taskset); `log_path` sends stderr to that file instead of memory (long runs, bench); `ready_timeout`
    bounds the wait for the ready line (BerthDidNotStart, with the exit status and stderr, when it does not come);
    `popen_kw` goes to Popen."""

    def __init__(self, args, env=None, binary=None, popen_kw=None, cwd=None, wrapper=(), log_path=None,
                 ready_timeout=20):
        self.args = [*wrapper, binary or BERTH_BIN, *args]
        self.lines = []  # stderr, line by line, as it arrives (when not sent to log_path)
        self.log_path = log_path
        stderr = open(log_path, "wb") if log_path else subprocess.PIPE
        try:
            self.proc = spawn(args, env=env, binary=binary, wrapper=wrapper, stdout=subprocess.PIPE, stderr=stderr,
                              cwd=cwd, **(popen_kw or {}))
        finally:
            if log_path:
                stderr.close()
        self._drain = None if log_path else threading.Thread(target=self._read_stderr, daemon=True)
        if self._drain:
            self._drain.start()
        line = _read_first_line(self.proc.stdout, ready_timeout)
        if not line.startswith(READY_PREFIX):
            self.stop(timeout=5)
            self.proc.stdout.close()
            if self._drain:
                self._drain.join(5)  # all of stderr, for the message
            stderr = self.stderr_text()
            message = (f"berth printed no ready line within {ready_timeout}s: {line!r} (exit {self.proc.returncode}) "
                       f"stderr={stderr[-4000:]!r}")
            raise BerthDidNotStart(message, self.proc.returncode, stderr)
        self.ready_line = line
        self.proxy, self.admin = parse_ready_line(line)

    @property
    def pid(self):
        return self.proc.pid

    def _read_stderr(self):
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def stderr_text(self):
        if self.log_path:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        return "".join(self.lines)

    def wait_log(self, needle, timeout=5):
        """The stderr lines that contain `needle`, once there is one; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.stderr_text().splitlines(keepends=True) if needle in line]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no log line with {needle!r} in:\n{self.stderr_text()}")

    def reload(self, config, text):
        """Writes `text` to the config file `config`, sends SIGHUP, and returns once berth logged the reload."""
        from .waiting import wait_for
        done = self.stderr_text().count("configuration reloaded")
        config.write_text(text)
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.stderr_text().count("configuration reloaded") > done, timeout=10, what="the reload")

    @property
    def proxy_url(self):
        return _http_url(self.proxy)

    @property
    def admin_url(self):
        return _http_url(self.admin)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends `sig` (SIGTERM: a graceful drain), waits up to `timeout` s, then SIGKILL; returns the exit status."""
        stop_process(self.proc, grace=timeout, sig=sig)
        return self.proc.returncode
