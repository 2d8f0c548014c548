"""review17: item 129's reset behind a backlog over a TLS upstream. OpenSSL reads ahead, so the reset may be met inside
`tlsRead` after it decrypted data (the read reports the data and the failure is met again on the next read), or with
whole records still in OpenSSL's buffer: the bytes before the reset still go first, a response they complete is
relayed whole, and a close-delimited body the reset ends (no close_notify) stays a visible cut."""
import socket
import ssl
import struct
import threading

import pytest

from berthkit import LOOPBACK_FLAGS, Berth, stats
from berthkit.cut_caller import Wire, read_final, request
from berthkit.tls_pki import PKI
from hostile_wire import connect

FLOOD = b"HTTP/1.1 103 Early Hints\r\n\r\n" * 3000
FINALS = {"length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Case: final\r\n\r\nhello",
          "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: final\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
          "close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Case: final\r\n\r\nhello"}


class FloodThenResetOrigin:
    """TLS: reads a request head, sends the 103 flood and `final` (in 16 KiB records), then resets the TCP connection
    (SO_LINGER 0, no close_notify)."""

    def __init__(self, pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server, pki.server_key)
        self.final = None
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw):
        try:
            raw.settimeout(5)
            tls = self.ctx.wrap_socket(raw, server_side=True)
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = tls.recv(65536)
                if not data:
                    return
                buf += data
            tls.sendall(FLOOD + self.final)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (OSError, ssl.SSLError):
            pass
        finally:
            raw.close()

    def close(self):
        self.listener.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tlsreset")
    pki = PKI(str(tmp))
    origin = FloodThenResetOrigin(pki)
    conf = tmp / "berth.yaml"
    conf.write_text(f"destinations:\n  - match: localhost\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
    b = Berth([*LOOPBACK_FLAGS, "--config", str(conf)])
    yield b, origin
    b.stop()
    origin.close()


def truncated(b):
    return stats(b)["totals"]["errors"]["response-truncated"]


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_framed_tls_response_whole_before_the_reset_is_relayed_whole(rig, framing, caller):
    b, origin = rig
    origin.final = FINALS[framing]
    before = truncated(b)
    c = connect(b.proxy)
    try:
        c.sendall(request(caller, f"localhost:{origin.port}", "flood"))
        s = read_final(Wire(c, timeout=5), "GET")
        assert (s.status, s.fields.get("x-case"), s.payload, s.complete) == (200, "final", b"hello", True), (
            "a whole response read ahead of the reset was not relayed", s.status, s.fields, len(s.interim))
        # An HTTP/1.0 caller gets no 1xx.
        assert len(s.interim) == (3000 if caller == "keep-alive" else 0), len(s.interim)
    finally:
        c.close()
    assert truncated(b) == before


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
def test_a_close_delimited_tls_body_ended_by_a_reset_stays_a_cut(rig, caller):
    b, origin = rig
    origin.final = FINALS["close"]
    before = truncated(b)
    c = connect(b.proxy)
    try:
        c.sendall(request(caller, f"localhost:{origin.port}", "flood"))
        w = Wire(c, timeout=5)
        s = read_final(w, "GET")
        assert s.status == 200 and s.fields.get("x-case") == "final" and not s.complete, (s, w.end)
        assert b"hello".startswith(s.payload), s.payload
        assert not s.last_chunk and (w.end == "reset" or (s.framing == "chunked" and w.end == "fin")), (s, w.end)
    finally:
        c.close()
    assert truncated(b) == before + 1
