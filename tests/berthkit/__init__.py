"""berthkit: the one Python harness of tests/, bench/ and fuzz/ — how to start berth, talk to its admin API, read
/stats and wait for a state — plus the raw-socket, origin and TLS helpers more than one of them uses.

Importable as `berthkit` with tests/ on the path: pytest gets it from tests/pytest.ini (`pythonpath = .`), the
bench and fuzz scripts from PYTHONPATH set by bench/lib/common.sh and fuzz/session/run.sh. Nothing inserts into
sys.path.

Starting berth (a test gets the same from the `berth` fixture of tests/conftest.py, stopped at teardown):

    from berthkit import Berth, admin, stats, upstream_stats, wait_for

    b = Berth(["--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"])   # or unix:/path; wrapper=, log_path= ...
    try:
        assert admin(b, "POST", "/pause?upstream=127.0.0.1:8080").status == 200
        wait_for(lambda: upstream_stats(b, "127.0.0.1:8080"), what="the upstream's /stats entry")
        print(stats(b)["totals"])
    finally:
        b.stop()  # SIGTERM, a bounded wait, then SIGKILL of that PID

One meaning each: `upstream_stats` is None while berth does not know the upstream; `wait_for` and `wait_upstream`
raise AssertionError naming what they waited for; `admin` returns an Answer for every status.
"""
from .admin import AdminConnection, Answer, UnixHTTPConnection, admin, admin_json, stats, upstream_stats, wait_upstream
from .concurrency import run_threads
from .factories import closing_factory
from .http_origin import Origin
from .http_wire import DEFAULT_TIMEOUT, BufferedSocket, Message, parse_head
from .process import (BERTH_BIN, LOOPBACK_FLAGS, ROOT, Berth, BerthDidNotStart, parse_address, parse_ready_line, spawn,
                      stop_process)
from .raw_client import RawClient, get_req, open_tunnel, raw_request
from .raw_origin import RawOrigin, ServerConn, echo_handler, free_port, keepalive_loop
from .waiting import wait_for

__all__ = ["AdminConnection", "Answer", "UnixHTTPConnection", "admin", "admin_json", "stats", "upstream_stats",
           "wait_upstream", "run_threads", "closing_factory", "Origin", "DEFAULT_TIMEOUT", "BufferedSocket", "Message",
           "parse_head", "BERTH_BIN", "LOOPBACK_FLAGS", "ROOT", "Berth", "BerthDidNotStart", "parse_address", "parse_ready_line",
           "spawn", "stop_process", "RawClient", "get_req", "open_tunnel", "raw_request", "RawOrigin", "ServerConn", "echo_handler",
           "free_port", "keepalive_loop", "wait_for"]
