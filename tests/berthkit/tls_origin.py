"""An HTTPS origin on Python's ssl module for the TLS tests: keep-alive HTTP/1.1, and a record of every connection.

Each accepted connection notes the SNI it asked for, whether its handshake resumed a session, the ALPN protocol,
the TLS version and the client certificate's subject. Options make it misbehave the ways the tests need: ask for or
require a client certificate, cap the version, close idle connections (with close_notify, or with a reset) after a pause, or
accept TCP and never answer the handshake. Loopback only; every thread is a daemon and every socket is closed.
"""
import hashlib
import socket
import ssl
import struct
import threading
import time


class TLSOrigin:
    def __init__(self, cert, key, client_ca=None, client_optional=False, max_version=None, idle_close=None,
                 idle_mode="close_notify", silent=False, num_tickets=2):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.ctx.num_tickets = num_tickets
        if client_ca:
            self.ctx.verify_mode = ssl.CERT_OPTIONAL if client_optional else ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(client_ca)
        if max_version:
            self.ctx.maximum_version = max_version
        self.ctx.sni_callback = self._sni
        self.idle_close = idle_close
        self.idle_mode = idle_mode
        self.silent = silent
        self.lock = threading.Lock()
        self.connections = []  # one dict per accepted connection, in order
        self.failures = []     # handshake errors, as text
        self.requests = []
        self._sni_seen = {}
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self._open = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _sni(self, sock, name, ctx):
        self._sni_seen[id(sock)] = name

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, raw):
        if self.silent:
            # TCP accepted, the ClientHello never answered: a handshake that cannot finish.
            time.sleep(30)
            return
        raw.settimeout(10)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.lock:
                self.failures.append(str(e))
            raw.close()
            return
        peer = tls.getpeercert()
        info = {"sni": self._sni_seen.get(id(tls)), "resumed": tls.session_reused, "alpn": tls.selected_alpn_protocol(),
                "version": tls.version(),
                "client": dict(x[0] for x in peer["subject"]).get("commonName") if peer else None,
                "requests": 0, "closed_by_origin": None}
        with self.lock:
            self.connections.append(info)
            self._open.append(tls)
        buf = b""
        try:
            while True:
                tls.settimeout(self.idle_close if self.idle_close else 30)
                try:
                    while b"\r\n\r\n" not in buf:
                        chunk = tls.recv(65536)
                        if not chunk:
                            return
                        buf += chunk
                except (socket.timeout, TimeoutError):
                    info["closed_by_origin"] = self.idle_mode
                    self._close_idle(tls, raw)
                    return
                head, _, buf = buf.partition(b"\r\n\r\n")
                path = head.split(b" ")[1].decode()
                with self.lock:
                    self.requests.append(path)
                info["requests"] += 1
                length = next((int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")[1:]
                               if l.lower().startswith(b"content-length:")), 0)
                while len(buf) < length:
                    chunk = tls.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                upload, buf = buf[:length], buf[length:]
                if path.startswith("/bytes/"):
                    # A large body: many records, several reads that fill berth's buffer, backpressure.
                    n = int(path.split("/")[2])
                    body = (b"0123456789abcdef" * (n // 16 + 1))[:n]
                elif length:
                    body = f"{length} {hashlib.sha256(upload).hexdigest()}".encode()
                else:
                    body = f"hello {path}".encode()
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except (ssl.SSLError, OSError):
            return
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def _close_idle(self, tls, raw):
        if self.idle_mode == "close_notify":
            try:
                tls.unwrap().close()
            except (ssl.SSLError, OSError):
                tls.close()
        else:
            # A reset: RST instead of FIN, and no close_notify.
            tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            tls.close()

    @property
    def hostport(self):
        return f"localhost:{self.port}"

    def close(self):
        self._stop = True
        self.listener.close()
        with self.lock:
            for s in self._open:
                try:
                    s.close()
                except OSError:
                    pass
