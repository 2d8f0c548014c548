"""The one import point of the integration helpers (also used by tests/e2e and tests/tls): re-exports their modules.

Everything they hold talks to 127.0.0.1 only, every wait is bounded, and every socket/thread is closed at teardown:
http_wire (messages, buffered sockets), raw_client (the caller side), raw_origin (scripted origins, free_port),
berth_stats (/stats and waiting on it), concurrency (run_threads); wait_for is tests/waiting.py's.
"""
from berth_stats import get_stats, upstream_stats, wait_upstream
from concurrency import run_threads
from http_wire import DEFAULT_TIMEOUT, BufferedSocket, Message, parse_head
from raw_client import RawClient, get_req, raw_request
from raw_origin import RawOrigin, ServerConn, echo_handler, free_port, keepalive_loop
from waiting import wait_for

__all__ = ["get_stats", "upstream_stats", "wait_upstream", "run_threads", "DEFAULT_TIMEOUT", "BufferedSocket",
           "Message", "parse_head", "RawClient", "get_req", "raw_request", "RawOrigin", "ServerConn", "echo_handler",
           "free_port", "keepalive_loop", "wait_for"]
