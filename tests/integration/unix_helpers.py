"""Helpers for the Unix-socket tests: berth run as another user, HTTP over AF_UNIX, a Node.js upstream on a path.

Everything stays on this machine, every wait is bounded, and every process is stopped by the fixture that made it.
"""
import errno
import os
import shutil
import socket
import stat
import subprocess
import tempfile

from berthkit import BERTH_BIN, UnixHTTPConnection, stop_process

NOBODY = 65534

# Node's http server on a socket path: each response names the connection it came on, so a test can tell a pooled
# connection from a new one; argv: path, mode (octal, or "-" to keep the umask's), keep-alive timeout in ms.
NODE_UPSTREAM = r"""
const http = require('http');
const fs = require('fs');
const [path, mode, keepAlive] = process.argv.slice(2);
let connections = 0;
const server = http.createServer((req, res) => {
  const body = JSON.stringify({conn: req.socket.berthConn, host: req.headers.host, url: req.url, method: req.method});
  res.setHeader('Content-Type', 'application/json');
  res.end(body);
});
server.on('connection', (s) => { s.berthConn = ++connections; });
server.keepAliveTimeout = Number(keepAlive);
server.listen(path, () => {
  if (mode !== '-') fs.chmodSync(path, parseInt(mode, 8));
  console.log('listening');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""


def shared_tmpdir():
    """A temporary directory every user may enter (pytest's tmp_path is 0700, closed to a berth run as nobody)."""
    d = tempfile.mkdtemp(prefix="berth-unix-")
    os.chmod(d, 0o755)
    return d


_binary_for_others = None


def berth_binary(popen_kw):
    """The binary to start: BERTH_BIN, or, for a run as another user, a copy that user may execute. A fresh clone's
    directory may be closed to others (mktemp -d makes it 0700), and nobody could not even start berth there."""
    global _binary_for_others
    if not (popen_kw or {}).get("user"):
        return BERTH_BIN
    if _binary_for_others is None:
        copy = os.path.join(shared_tmpdir(), "berth")
        shutil.copy2(BERTH_BIN, copy)
        os.chmod(copy, 0o755)
        _binary_for_others = copy
    return _binary_for_others


def as_nobody():
    """Popen arguments that run a process as nobody when the tests run as root (root passes every permission check,
    so a permission test needs another user); none otherwise, where the tests' own user is already unprivileged."""
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []} if os.geteuid() == 0 else {}


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def is_socket(path):
    return os.path.exists(path) and stat.S_ISSOCK(os.lstat(path).st_mode)


def leave_stale_socket(path):
    """What a run killed with SIGKILL leaves: a socket file nobody listens on."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    assert is_socket(path)


def request(path, method, target, headers=None, body=None):
    """One request on a fresh AF_UNIX connection: (status, headers dict, body bytes)."""
    c = UnixHTTPConnection(path)
    try:
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def curl(*args, user_kw=None):
    """curl with `args`; returns the CompletedProcess (stdout is the body with -s)."""
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True, timeout=20,
                          **(user_kw or {}))


def connect_error(path, as_other_user):
    """The errno name a connect to `path` fails with, from a child process that first becomes nobody when
    `as_other_user` (and the tests run as root); "" when it connects. A fork, not a program: nobody may not be
    able to run this interpreter (root's own Python install)."""
    pid = os.fork()
    if pid == 0:
        code = 255
        try:
            if as_other_user and os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            code = 0
        except OSError as e:
            code = e.errno or 255
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return errno.errorcode.get(code, str(code)) if code else ""


def run_berth(args, popen_kw=None, timeout=20):
    """berth run to its end (for starts that must fail): the CompletedProcess."""
    return subprocess.run([berth_binary(popen_kw), *args], capture_output=True, text=True, timeout=timeout, **(popen_kw or {}))


class NodeUpstream:
    """A Node.js HTTP server on a Unix socket path (`server.listen(path)`)."""

    def __init__(self, workdir, path, mode="0666", keep_alive_ms=5000):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not installed (apt-get install -y nodejs)")
        script = os.path.join(workdir, "upstream.js")
        with open(script, "w") as f:
            f.write(NODE_UPSTREAM)
        self.path = path
        self.proc = subprocess.Popen([node, script, path, mode, str(keep_alive_ms)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().strip()
        if line != "listening":
            self.stop()
            raise RuntimeError(f"node upstream did not start: {line!r} {self.proc.stderr.read()!r}")

    def stop(self):
        stop_process(self.proc, grace=10)
