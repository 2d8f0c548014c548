"""A TLS upstream whose connection ends inside a record (part of its last record sent, then a FIN): the bytes of that
record never arrive, and the end is no close_notify, so the response is cut, visibly, whatever its framing; a record
cut inside the head gets berth's 502 before any byte."""
import socket
import ssl
import threading

import pytest

from berthkit import LOOPBACK_FLAGS, Berth, stats
from berthkit.cut_caller import Wire, read_response, request
from berthkit.cut_origin import CHUNKED, CLOSE, LENGTH
from berthkit.tls_pki import PKI
from hostile_wire import connect


class RecordCutOrigin:
    """TLS over a memory BIO, so the ciphertext can be cut anywhere: each connection gets the head in one record and
    the body in another, of which the last `cut` bytes are never sent (or the head's, with `in_head`), then a FIN."""

    def __init__(self, pki):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki.server, pki.server_key)
        self.plan = None  # (response, cut, in_head)
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

    @staticmethod
    def _pump(raw, tls, incoming, outgoing, call):
        """Runs `call` until it needs no more bytes from the peer; what it writes goes out."""
        while True:
            try:
                result = call()
                raw.sendall(outgoing.read())
                return result
            except ssl.SSLWantReadError:
                raw.sendall(outgoing.read())
                data = raw.recv(65536)
                if not data:
                    raise EOFError
                incoming.write(data)

    def _serve(self, raw):
        try:
            raw.settimeout(5)
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            tls = self.ctx.wrap_bio(incoming, outgoing, server_side=True)
            self._pump(raw, tls, incoming, outgoing, tls.do_handshake)
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += self._pump(raw, tls, incoming, outgoing, lambda: tls.read(65536))
            response, cut, in_head = self.plan
            tls.write(response.head)
            head = outgoing.read()
            tls.write(response.body)
            body = outgoing.read()
            raw.sendall(head[:-cut] if in_head else head + body[:-cut])
            raw.shutdown(socket.SHUT_WR)
            while raw.recv(65536):
                pass
        except (OSError, EOFError, ssl.SSLError):
            pass
        finally:
            raw.close()

    def close(self):
        self.listener.close()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("record")
    pki = PKI(str(tmp))
    origin = RecordCutOrigin(pki)
    conf = tmp / "berth.yaml"
    conf.write_text(f"destinations:\n  - match: localhost\n    tls: {{ca-file: \"{pki.ca}\"}}\n")
    b = Berth([*LOOPBACK_FLAGS, "--config", str(conf)])
    yield b, origin
    b.stop()
    origin.close()


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
@pytest.mark.parametrize("cut", [1, 16, 22], ids=["last-byte", "tag", "header-and-a-byte"])
@pytest.mark.parametrize("r", [LENGTH, CHUNKED, CLOSE], ids=lambda r: r.name)
def test_a_body_record_cut_short_is_a_visible_cut(rig, r, cut, caller):
    b, origin = rig
    # The body's record is its payload, a 5-byte header and a 16-byte tag at least (TLS 1.3 adds a type byte):
    # `cut` bytes short of it leaves the record whole but for its last byte, its tag, or all but its header's start.
    cut = min(cut, len(r.body) + 21)
    origin.plan = (r, cut, False)
    before = stats(b)["totals"]["errors"]["response-truncated"]
    sock = connect(b.proxy)
    try:
        sock.sendall(request(caller, f"localhost:{origin.port}", "record"))
        w = Wire(sock, timeout=3)
        s = read_response(w, "GET")
        note = (r.name, cut, s, w.end)
        assert s.status == 200 and s.fields.get("x-case") == r.name and not s.complete, note
        assert s.payload == b"", ("bytes of a record that never came whole were relayed", note)
        assert not s.last_chunk and (w.end == "reset" or (s.framing == "chunked" and w.end == "fin")), note
    finally:
        sock.close()
    assert stats(b)["totals"]["errors"]["response-truncated"] == before + 1


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
def test_a_head_record_cut_short_is_berths_502(rig, caller):
    b, origin = rig
    origin.plan = (LENGTH, 1, True)
    sock = connect(b.proxy)
    try:
        sock.sendall(request(caller, f"localhost:{origin.port}", "record"))
        s = read_response(Wire(sock, timeout=3), "GET")
        assert (s.status, s.fields.get("berth-error"), s.complete) == (502, "upstream-reset", True), s
    finally:
        sock.close()
