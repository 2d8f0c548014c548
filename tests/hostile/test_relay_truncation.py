"""No silent truncation (issue 23, item 3): a response cut short upstream is visibly cut for the caller."""
import socket
import ssl
import struct
import threading
import time

import pytest

from berthkit import stats
from berthkit.tls_pki import PKI
from hostile_wire import connect, header_of, read_to_end, status_of

BODY = b"0123456789abcdef" * 64  # 1 KiB sent before the cut


def rst(sock):
    """Closes with SO_LINGER {1, 0}: the peer sees a reset, not a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def request(hostport, version="1.1", method="GET", path="/cut"):
    extra = "" if version == "1.1" else "Connection: close\r\n"
    return f"{method} http://{hostport}{path} HTTP/{version}\r\nHost: {hostport}\r\n{extra}\r\n".encode()


def dechunk(body):
    """(payload, complete): the chunked body's payload and whether its last chunk arrived; raises on bad framing."""
    out = bytearray()
    while True:
        line, sep, rest = body.partition(b"\r\n")
        if not sep:
            return bytes(out), False
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return bytes(out), rest.startswith(b"\r\n")
        if len(rest) < size + 2:
            out += rest[:size]
            return bytes(out), False
        assert rest[size:size + 2] == b"\r\n", f"bad chunk end in {body[:200]!r}"
        out += rest[:size]
        body = rest[size + 2:]


def split(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", body


def assert_caller_can_tell(raw, how, expect_payload_prefix=BODY):
    """The caller sees the cut: a reset, or a chunked body without its last chunk; never a clean end that looks whole."""
    assert status_of(raw) == 200, raw[:200]
    head, body = split(raw)
    te = (header_of(raw, "Transfer-Encoding") or "").lower()
    if how == "reset":
        return
    assert how == "fin", how
    assert te.endswith("chunked"), (
        f"the response ended with a clean FIN and framing that cannot show a cut (Transfer-Encoding {te!r}, "
        f"Content-Length {header_of(raw, 'Content-Length')!r}): a truncated body looks complete: {head!r}")
    payload, complete = dechunk(body)
    assert not complete, "a truncated response was given its last chunk"
    assert expect_payload_prefix.startswith(payload) or payload.startswith(expect_payload_prefix), payload[:80]


def stats_failures(b):
    """The worker totals' failures by cause."""
    return stats(b)["totals"]["errors"]


# --- close-delimited responses -------------------------------------------------------------------------------------

def close_delimited_then(action):
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n" + BODY)
        if action == "rst":
            time.sleep(0.2)
            rst(conn.sock)
        elif action == "stall":
            time.sleep(4)
            conn.sock.close()
        else:
            conn.sock.close()
    return handler


def test_close_delimited_response_reset_mid_body_shows_to_an_http11_caller(berth, raw_origin):
    b = berth()
    o = raw_origin(close_delimited_then("rst"))
    c = connect(b.proxy)
    c.sendall(request(o.hostport))
    raw, how = read_to_end(c)
    c.close()
    assert_caller_can_tell(raw, how)
    assert stats_failures(b).get("response-truncated") == 1, stats_failures(b)


def test_close_delimited_response_reset_mid_body_resets_an_http10_caller(berth, raw_origin):
    b = berth()
    o = raw_origin(close_delimited_then("rst"))
    c = connect(b.proxy)
    c.sendall(request(o.hostport, version="1.0"))
    raw, how = read_to_end(c)
    c.close()
    assert status_of(raw) == 200, raw[:200]
    assert how == "reset", f"an HTTP/1.0 caller got a clean FIN after {len(split(raw)[1])} of the body's bytes"


def test_close_delimited_response_stalled_past_the_socket_timeout_shows(berth, raw_origin):
    b = berth("--socket-timeout", "1s")
    o = raw_origin(close_delimited_then("stall"))
    c = connect(b.proxy)
    c.sendall(request(o.hostport))
    raw, how = read_to_end(c, timeout=8)
    c.close()
    assert how != "timeout", "berth never ended the stalled response"
    assert_caller_can_tell(raw, how)


def test_close_delimited_response_stalled_resets_an_http10_caller(berth, raw_origin):
    b = berth("--socket-timeout", "1s")
    o = raw_origin(close_delimited_then("stall"))
    c = connect(b.proxy)
    c.sendall(request(o.hostport, version="1.0"))
    raw, how = read_to_end(c, timeout=8)
    c.close()
    assert status_of(raw) == 200, raw[:200]
    assert how == "reset", how


def test_close_delimited_response_that_ends_cleanly_is_a_complete_chunked_body(berth, raw_origin):
    """The positive case: the upstream's FIN ends the body, the caller gets every byte and the last chunk, and its
    connection stays open for the next request (the chunked framing gives it a boundary)."""
    b = berth()
    o = raw_origin(close_delimited_then("fin"))
    c = connect(b.proxy)
    c.sendall(request(o.hostport))
    raw = b""
    while not raw.endswith(b"0\r\n\r\n"):
        chunk = c.recv(65536)
        assert chunk, f"the caller's connection ended before the last chunk: {raw[-200:]!r}"
        raw += chunk
    head, body = split(raw)
    assert header_of(raw, "Transfer-Encoding") == "chunked", head
    assert header_of(raw, "Content-Type") == "text/plain", head
    assert (header_of(raw, "Connection") or "").lower() != "close", head
    payload, complete = dechunk(body)
    assert complete and payload == BODY
    # The connection is still usable: a second request on it gets its own complete response.
    c.sendall(request(o.hostport, path="/again"))
    raw2 = b""
    while not raw2.endswith(b"0\r\n\r\n"):
        chunk = c.recv(65536)
        assert chunk, raw2[-200:]
        raw2 += chunk
    assert dechunk(split(raw2)[1]) == (BODY, True)
    c.close()
    assert stats_failures(b).get("response-truncated") == 0


def test_close_delimited_response_to_an_http10_caller_stays_close_delimited(berth, raw_origin):
    b = berth()
    o = raw_origin(close_delimited_then("fin"))
    c = connect(b.proxy)
    c.sendall(request(o.hostport, version="1.0"))
    raw, how = read_to_end(c)
    c.close()
    assert how == "fin"
    assert header_of(raw, "Transfer-Encoding") is None
    assert split(raw)[1] == BODY


@pytest.mark.parametrize("status,method", [(204, "GET"), (304, "GET"), (200, "HEAD")])
def test_bodiless_responses_are_not_given_chunked_framing(berth, raw_origin, status, method):
    """HEAD, 204 and 304 have no body whatever their framing says: nothing is re-framed, nothing is cut."""
    def handler(conn):
        conn.read_request()
        conn.sendall(f"HTTP/1.1 {status} X\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.3)
        conn.sock.close()

    b = berth()
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(request(o.hostport, method=method))
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = c.recv(65536)
        assert chunk
        raw += chunk
    assert status_of(raw) == status
    assert header_of(raw, "Transfer-Encoding") is None, raw
    time.sleep(0.5)
    c.sendall(request(o.hostport, method=method, path="/next"))
    more, how = read_to_end(c, timeout=3)
    c.close()
    assert status_of(more) == status, (more, how)


# --- framed responses cut short ------------------------------------------------------------------------------------

def chunked_cut(conn):
    conn.read_request()
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 + b"%x\r\n" % len(BODY) + BODY + b"\r\n" + b"400\r\n" + b"x" * 100)
    time.sleep(0.2)
    conn.sock.close()


def test_chunked_response_cut_short_resets_an_http10_caller(berth, raw_origin):
    b = berth()
    o = raw_origin(chunked_cut)
    c = connect(b.proxy)
    c.sendall(request(o.hostport, version="1.0"))
    raw, how = read_to_end(c)
    c.close()
    assert status_of(raw) == 200, raw[:200]
    assert header_of(raw, "Transfer-Encoding") is None
    assert how == "reset", f"the de-chunked body ended with a clean FIN: {len(split(raw)[1])} bytes look complete"
    assert stats_failures(b).get("response-truncated") == 1, stats_failures(b)


def test_chunked_response_cut_short_shows_to_an_http11_caller(berth, raw_origin):
    b = berth()
    o = raw_origin(chunked_cut)
    c = connect(b.proxy)
    c.sendall(request(o.hostport))
    raw, how = read_to_end(c)
    c.close()
    assert_caller_can_tell(raw, how, expect_payload_prefix=BODY + b"x" * 100)


@pytest.mark.parametrize("version", ["1.1", "1.0"])
@pytest.mark.parametrize("cut", ["fin", "rst"])
def test_content_length_response_cut_short_resets_the_caller(berth, raw_origin, version, cut):
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n" + BODY)
        time.sleep(0.2)
        rst(conn.sock) if cut == "rst" else conn.sock.close()

    b = berth()
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(request(o.hostport, version=version))
    raw, how = read_to_end(c)
    c.close()
    assert status_of(raw) == 200 and header_of(raw, "Content-Length") == "50000", raw[:200]
    assert how == "reset", f"a Content-Length response cut at {len(split(raw)[1])} bytes ended with a clean FIN"


def test_content_length_response_stalled_past_the_socket_timeout_resets_the_caller(berth, raw_origin):
    def handler(conn):
        conn.read_request()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\n" + BODY)
        time.sleep(4)

    b = berth("--socket-timeout", "1s")
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(request(o.hostport))
    raw, how = read_to_end(c, timeout=8)
    c.close()
    assert how == "reset", how
    assert stats_failures(b).get("response-truncated") == 1, stats_failures(b)


# --- TLS: a close-delimited body needs close_notify --------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


class CloseDelimitedTLSOrigin:
    """One-shot HTTPS origin: answers each connection with a close-delimited body, then ends with close_notify
    (`notify`) or by closing the socket under TLS (no close_notify: a truncation attack looks just like it)."""

    def __init__(self, pki, notify):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server, pki.server_key)
        self.notify = notify
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            try:
                raw.settimeout(10)
                tls = self.ctx.wrap_socket(raw, server_side=True)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    buf += tls.recv(65536)
                tls.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY)
                time.sleep(0.2)
                if self.notify:
                    tls.unwrap().close()
                else:
                    raw.close()
            except (OSError, ssl.SSLError):
                raw.close()

    def close(self):
        self.listener.close()


@pytest.mark.parametrize("notify", [True, False], ids=["close_notify", "no-close_notify"])
def test_close_delimited_tls_response_needs_close_notify(berth, tmp_path, pki, notify):
    o = CloseDelimitedTLSOrigin(pki, notify)
    try:
        conf = tmp_path / "berth.yaml"
        conf.write_text(f"destinations:\n  - match: localhost\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
        b = berth("--config", str(conf))
        for version in ("1.1", "1.0"):
            c = connect(b.proxy)
            c.sendall(request(f"localhost:{o.port}", version=version))
            raw, how = read_to_end(c, timeout=3)
            c.close()
            head, body = split(raw)
            if notify and version == "1.1":
                # The caller's connection stays open after a complete chunked body.
                assert how == "timeout" and dechunk(body) == (BODY, True), (how, raw[-100:])
                continue
            assert status_of(raw) == 200, raw[:200]
            if notify:
                expect = dechunk(body) if version == "1.1" else (body, True)
                assert expect == (BODY, True) and how == "fin", (version, how, head)
            elif version == "1.1":
                assert_caller_can_tell(raw, how)
            else:
                assert how == "reset", "a TLS close without close_notify ended a close-delimited body cleanly"
    finally:
        o.close()
