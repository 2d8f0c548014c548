"""Pipelined requests whose connect fails before it returns (a loop to berth itself, a multicast address) are each answered, in order, without berth's stack growing per request."""
import socket
import subprocess
import threading
import time

from hostile_wire import connect

# Enough small heads that one of berth's reads (up to 256 KiB) holds thousands of them: before the fix each started
# the next from inside the last one's connect failure, one stack level per request, and berth died of SIGSEGV.
HEADS = 30_000


def _pipeline(addr, heads):
    """Sends `heads` in one stream from a thread while reading; returns each answer's (status, body) in order."""
    s = connect(addr, timeout=30)
    data = b"".join(heads)
    sender = threading.Thread(target=lambda: s.sendall(data), daemon=True)
    sender.start()
    answers, buf = [], bytearray()
    deadline = time.monotonic() + 120
    while len(answers) < len(heads) and time.monotonic() < deadline:
        try:
            chunk = s.recv(1 << 20)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
        while (end := buf.find(b"\r\n\r\n")) >= 0:
            head = buf[:end].decode("latin-1").split("\r\n")
            length = next(int(line.split(":", 1)[1]) for line in head if line.lower().startswith("content-length:"))
            if len(buf) < end + 4 + length:
                break
            answers.append((int(head[0].split()[1]), bytes(buf[end + 4:end + 4 + length])))
            del buf[:end + 4 + length]
    s.close()
    sender.join(5)
    return answers


def _assert_each_answered_in_order(b, heads, status, names):
    """Every head got its own `status` answer naming `names[i % len(names)]`, and berth still runs."""
    answers = _pipeline(b.proxy, heads)
    if len(answers) < len(heads):
        # A crash is reported after its backtrace is written: give the process that long to end.
        try:
            b.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
    assert b.proc.poll() is None, f"berth died ({b.proc.returncode}) after {len(answers)} of {len(heads)} answers"
    assert len(answers) == len(heads), f"{len(answers)} answers to {len(heads)} requests"
    for i, (got, body) in enumerate(answers):
        assert got == status, (i, got, body)
        assert names[i % len(names)].encode() in body, (i, body)


def test_pipelined_requests_to_berths_own_listeners_are_each_answered_508(berth):
    """The loop check fails the connect at once: 508 for each request, alternating proxy and admin port."""
    b = berth()
    targets = [f"127.0.0.1:{b.proxy[1]}", f"127.0.0.1:{b.admin[1]}"]
    # Origin form with Host: the shortest head that routes (to berth itself).
    heads = [f"GET / HTTP/1.1\r\nHost:{targets[i % 2]}\r\n\r\n".encode() for i in range(HEADS)]
    _assert_each_answered_in_order(b, heads, 508, targets)


def test_pipelined_requests_to_a_multicast_address_are_each_answered_502(berth):
    """Linux refuses a TCP connect to a multicast address inside connect(2) (ENETUNREACH): the same path, reached
    from any destination the allow rules admit."""
    b = berth()
    targets = ["224.0.0.1:80", "224.0.0.2:80"]
    heads = [f"GET / HTTP/1.1\r\nHost:{targets[i % 2]}\r\n\r\n".encode() for i in range(HEADS)]
    _assert_each_answered_in_order(b, heads, 502, targets)
