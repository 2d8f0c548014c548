"""A log file that reaches the file size limit costs log lines, never the proxy (adv4).

berth's stderr may be a file (a supervisor's redirect), and the process may carry RLIMIT_FSIZE (`ulimit -f`,
systemd's LimitFSIZE=). A write past that limit raises SIGXFSZ, whose default action ends the process with a core
dump: with the access log on, the 47th request's log line killed berth (-25) and every connection with it. Apache
httpd and PostgreSQL ignore SIGXFSZ so that the write fails with EFBIG instead; berth now does too, and
`StderrWriter` drops a line stderr does not take."""
import os
import resource

from berthkit import Berth, RawOrigin, get_req
from hostile_wire import connect

LIMIT = 16384


def test_requests_are_served_after_the_log_file_reaches_its_size_limit(tmp_path):
    origin = RawOrigin(lambda c: [c.respond(200, b"ok") for _ in iter(c.read_request, None)])
    log = tmp_path / "berth.log"
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--access-log"], log_path=str(log),
              popen_kw={"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))})
    try:
        s = connect(b.proxy, timeout=5)
        for i in range(200):
            s.sendall(get_req(origin.hostport, f"/r{i}"))
            got = b""
            while not got.endswith(b"ok"):
                chunk = s.recv(4096)
                assert chunk, (i, b.proc.poll(), got[:200])
                got += chunk
            assert got.startswith(b"HTTP/1.1 200"), (i, got[:200])
        s.close()
        assert os.path.getsize(log) == LIMIT
        assert b.proc.poll() is None, b.proc.returncode
    finally:
        assert b.stop() == 0
        origin.close()
