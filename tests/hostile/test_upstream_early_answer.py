"""hostile2: an origin that answers before the request body has all gone out (a 413 to an upload), then closes.

A server that refuses an upload answers at once (`413`, `Connection: close`) and closes its socket with the body
unread, so its kernel resets the connection right behind the answer. The answer reaches berth's socket before the
reset, and Linux still hands it to a read after the reset. Before the fix berth acted on whichever it met first: the
failed write of the upload's next bytes ended the exchange as `502 upstream-reset` (most runs), and an answer it had
read first was then cut with a reset of the caller, which can destroy the answer in the caller's kernel. After: a
write that fails stops the upload, the upstream is read to its end, and its whole answer goes to the caller, whose
connection then closes (berth does not read the rest of its upload as a request). The TLS variant passed before the
fix too (OpenSSL's writes met the reset later); it guards the read after a failed TLS write."""
import select
import socket
import ssl
import threading
import time

from berthkit import stats
from berthkit.tls_pki import PKI
from hostile_wire import connect, header_of, status_of

UPLOAD = 16 << 20
ANSWER = b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large"


def _listener():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    lsock.settimeout(0.2)
    return lsock


def _serve(lsock, read_first, stop):
    """One connection at a time: reads the head and `read_first` body bytes, answers 413, closes over the rest."""
    while not stop():
        try:
            c, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            got = c.recv(65536)
            if not got:
                break
            data += got
        body = len(data.split(b"\r\n\r\n", 1)[1])
        while body < read_first:
            got = c.recv(min(65536, read_first - body))
            if not got:
                break
            body += len(got)
        c.sendall(ANSWER)
        c.close()  # the upload's rest is unread: the kernel resets the connection behind the answer


def _upload(addr, hostport, timeout=8.0):
    """Sends a POST with a 16 MiB body as fast as berth takes it while reading what comes back; (bytes, how)."""
    s = connect(addr)
    s.sendall(f"POST http://{hostport}/upload HTTP/1.1\r\nHost: {hostport}\r\n"
              f"Content-Length: {UPLOAD}\r\n\r\n".encode())
    s.setblocking(False)
    sent, got, how = 0, bytearray(), "timeout"
    block = b"u" * 65536
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, w, _ = select.select([s], [s] if sent < UPLOAD and how == "timeout" else [], [], 0.1)
        if r:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                how = "reset"
                break
            if not chunk:
                how = "fin"
                break
            got += chunk
        if w:
            try:
                sent += s.send(block[:UPLOAD - sent])
            except BlockingIOError:
                pass
            except OSError:
                pass  # berth stopped taking the upload: keep reading its answer
    s.close()
    return bytes(got), how


def test_early_answer_then_reset_reaches_the_caller(berth):
    b = berth("--socket-timeout", "3s")
    for read_first in (0, 65536, 1 << 20):
        lsock = _listener()
        done = []
        t = threading.Thread(target=_serve, args=(lsock, read_first, lambda: done), daemon=True)
        t.start()
        hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
        try:
            for round_ in range(4):
                raw, how = _upload(b.proxy, hostport)
                assert status_of(raw) == 413, (
                    f"read_first={read_first} round {round_}: the origin's 413 was lost ({how}): {raw[:300]!r}")
                head, _, body = raw.partition(b"\r\n\r\n")
                assert body == b"too large", (read_first, round_, how, raw[:300])
                assert header_of(raw, "Connection") == "close", head
        finally:
            done.append(1)
            t.join(2)
            lsock.close()
    errors = stats(b)["totals"]["errors"]
    assert not errors.get("upstream-reset") and not errors.get("response-truncated"), errors


def _serve_tls(lsock, ctx, stop):
    """The same origin over TLS: the answer, then a close of the socket over the unread upload (a reset, no
    close_notify)."""
    while not stop():
        try:
            raw, _ = lsock.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        raw.settimeout(5)
        try:
            c = ctx.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                got = c.recv(65536)
                if not got:
                    break
                data += got
            c.sendall(ANSWER)
        except (OSError, ssl.SSLError):
            pass
        finally:
            raw.close()


def test_early_answer_then_reset_reaches_the_caller_over_tls(berth, tmp_path):
    pki = PKI(str(tmp_path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server, pki.server_key)
    conf = tmp_path / "berth.yaml"
    conf.write_text(f"destinations:\n  - match: localhost\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
    b = berth("--config", str(conf), "--socket-timeout", "3s")
    lsock = _listener()
    done = []
    t = threading.Thread(target=_serve_tls, args=(lsock, ctx, lambda: done), daemon=True)
    t.start()
    try:
        for round_ in range(4):
            raw, how = _upload(b.proxy, "localhost:%d" % lsock.getsockname()[1])
            assert status_of(raw) == 413, f"round {round_}: the origin's 413 was lost ({how}): {raw[:300]!r}"
            assert raw.partition(b"\r\n\r\n")[2] == b"too large", (round_, how, raw[:300])
    finally:
        done.append(1)
        t.join(2)
        lsock.close()
