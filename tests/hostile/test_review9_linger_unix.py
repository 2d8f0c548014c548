"""Review 9: the lingering close over an answer in flight (1c31e75) for a caller on the Unix-socket listener, where
TIOCOUTQ counts what the peer has not read yet (AF_UNIX has no send queue: berth's bytes wait in the caller's
receive queue). A Connection: close answer of 2 MiB with pipelined requests behind it, read 0.3 s late, arrives
whole and ends in an EOF; a caller that sends on and never reads an answer berth has wholly handed over is still
closed by the linger timer (an answer still in berth's own buffer waits under the caller idle timeout instead)."""
import socket
import threading
import time

from hostile_wire import read_to_end, status_of

BIG = 2 << 20
SMALL = 32 << 10  # all of it fits in the caller's receive queue: berth's side is flushed, only the linger holds it


def _serve(size):
    def handler(conn):
        while not conn.origin.stopped.is_set():
            if conn.read_request() is None:
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"o" * size)
    return handler


def _unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def _get(hp, extra=""):
    return f"GET http://{hp}/ HTTP/1.1\r\nHost: {hp}\r\n{extra}\r\n".encode()


def test_a_unix_caller_reading_late_gets_its_whole_answer(berth, raw_origin, tmp_path):
    o = raw_origin(_serve(BIG))
    b = berth(listen=f"unix:{tmp_path}/p.sock")
    for run in range(3):
        s = _unix(b.proxy)
        try:
            s.sendall(_get(o.hostport, "Connection: close\r\n"))

            def more():
                time.sleep(0.05)
                try:
                    s.sendall(_get(o.hostport) * 50)
                except OSError:
                    pass

            t = threading.Thread(target=more, daemon=True)
            t.start()
            time.sleep(0.3)
            data, how = read_to_end(s, timeout=15)
            t.join(5)
        finally:
            s.close()
        assert status_of(data) == 200, (run, how, data[:200])
        body = data.partition(b"\r\n\r\n")[2]
        assert (len(body), how) == (BIG, "fin"), run


def test_a_unix_caller_that_sends_forever_and_never_reads_is_closed(berth, raw_origin, tmp_path):
    o = raw_origin(_serve(SMALL))
    b = berth("--caller-idle-timeout", "30s", listen=f"unix:{tmp_path}/p.sock")
    s = _unix(b.proxy)
    try:
        s.sendall(_get(o.hostport, "Connection: close\r\n"))
        s.settimeout(1)
        deadline = time.monotonic() + 15  # a hang guard: the linger timer (2 s) ends it well before
        ended = False
        while time.monotonic() < deadline:
            try:
                s.sendall(b"u" * 4096)
            except socket.timeout:
                continue  # berth is not reading just now: its answer may not have left yet
            except OSError:
                ended = True
                break
        assert ended, "berth still held the caller after 15 s"
    finally:
        s.close()
