"""An admin client that asks for a large /stats and never reads it: its connection ends at the admin's idle timeout
(60 s with no byte taken), as one whose small answers sit unread does; before, a large answer being handed over
counted as berth's own work in progress, so the timeout was re-armed for ever and the document stayed in memory."""
import socket
import time

from hostile_wire import connect, read_to_end, status_of

IDLE_TIMEOUT = 60


def _pause_4000(b):
    """~4,000 paused upstreams make /stats ~6 MB, far past the socket buffers and the 256 KiB hand-over chunk."""
    s = connect(b.admin, timeout=30)
    batch = b"".join(f"POST /pause?upstream=u{i}.example:80 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() for i in range(4000))
    s.sendall(batch)
    got = b""
    while got.count(b"HTTP/1.1 200") < 4000:
        chunk = s.recv(1 << 20)
        assert chunk, got[-300:]
        got += chunk
    s.close()


def _small_buffered(addr):
    """An admin connection with a 4 KiB receive buffer, so the answer backs up in berth at once."""
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(10)
    c.connect(addr)
    return c


def _content_length(head):
    return int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])


def test_a_large_stats_answer_never_read_ends_at_the_idle_timeout(berth):
    b = berth()
    _pause_4000(b)

    stalled = _small_buffered(b.admin)
    try:
        stalled.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        time.sleep(IDLE_TIMEOUT + 8)
        data, how = read_to_end(stalled, timeout=20)
    finally:
        stalled.close()
    assert status_of(data) == 200, data[:200]
    head, _, body = data.partition(b"\r\n\r\n")
    length = _content_length(head)
    # Closed at the idle timeout: the client, reading at last, finds the answer cut short.
    assert len(body) < length and how in ("fin", "reset"), (len(body), length, how)


def test_a_slow_but_steady_reader_of_a_large_answer_keeps_its_connection(berth):
    b = berth()
    _pause_4000(b)

    slow = _small_buffered(b.admin)
    try:
        slow.sendall(b"GET /stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        # 2 KiB a second for longer than the idle timeout: a 256 KiB hand-over chunk takes ~2 minutes at that pace.
        end = time.monotonic() + IDLE_TIMEOUT + 10
        while time.monotonic() < end:
            data += slow.recv(2048)
            time.sleep(1)
        rest, how = read_to_end(slow, limit=64 << 20, timeout=30)
        data += rest
    finally:
        slow.close()
    head, _, body = data.partition(b"\r\n\r\n")
    length = _content_length(head)
    assert len(body) == length and how == "fin", (len(body), length, how)
