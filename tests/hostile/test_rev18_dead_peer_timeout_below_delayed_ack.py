"""rev18: a dead-peer timeout set below the delayed ACK never sends a POST a live server read a second time.

The dead-peer rule takes request bytes the peer's kernel has not acknowledged for bytes no server read, and sends
the request again whatever its method. That holds only once a live server's delayed ACK (up to 200 ms) could have
come: item 137 waits `min(dead-peer-timeout, 250 ms)` and a round trip for it, so `--dead-peer-timeout 1ms` (a value
berth accepts) judged a request a millisecond after its send. A loopback origin in interactive mode (it answered the
last request at once, so its kernel delays the ACK until its answer) that answers 5 ms after reading the request had
every POST on a reused connection delivered twice (39 deliveries of 20). After: no look judges before 250 ms and a
round trip, whatever the setting (the look at the socket timeout had that floor already, `soonestLook`)."""
import time

from berthkit.admin import stats
from hostile_wire import connect, thread_per_connection

POSTS = 20


def _origin(seen):
    """Keep-alive: reads each request whole, answers it 5 ms later; notes each request's path."""
    def conn(c):
        c.settimeout(10)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    got = c.recv(65536)
                    if not got:
                        return
                    buf += got
                head, buf = buf.split(b"\r\n\r\n", 1)
                length = int([line.split(b":", 1)[1] for line in head.split(b"\r\n")[1:]
                              if line.lower().startswith(b"content-length:")][0])
                while len(buf) < length:
                    got = c.recv(65536)
                    if not got:
                        return
                    buf += got
                buf = buf[length:]
                seen.append(head.split(b" ")[1])
                time.sleep(0.005)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            c.close()

    return thread_per_connection(conn)


def test_a_one_millisecond_dead_peer_timeout_runs_each_post_once(berth):
    b = berth("--dead-peer-timeout", "1ms")
    seen = []
    lsock, stop, t = _origin(seen)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    try:
        s = connect(b.proxy, timeout=10)
        f = s.makefile("rb")
        statuses = []
        for i in range(POSTS):
            s.sendall(f"POST http://{hostport}/{i} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: 3\r\n\r\nabc".encode())
            status = f.readline()
            length = 0
            while (line := f.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            f.read(length)
            statuses.append(status.split(b" ")[1])
        s.close()
        time.sleep(0.2)
        assert statuses == [b"200"] * POSTS
        assert sorted(seen) == sorted(b"/%d" % i for i in range(POSTS)), seen
        upstream = stats(b.admin)["upstreams"][0]
        assert upstream["replays"]["dead-peer"] == 0
        assert upstream["connections"]["reused"] == POSTS - 1
    finally:
        stop.append(1)
        lsock.close()
        t.join(2)
