"""A UDP DNS server on 127.0.0.1 whose answers a test writes: any bytes (huge, looping, for another name), late, or
none; with the DNS record builders those answers need. Run berth on it with test_hostile1_absolute_names.dns_wrapper."""
import socket
import struct
import threading
import time


def question_of(q):
    """(name, qtype, end of the question section) of query `q`."""
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    return ".".join(labels).lower(), struct.unpack("!H", q[i + 1:i + 3])[0], i + 5


def encode_name(name):
    """`name` as DNS labels."""
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def reply(q, answers=b"", count=0, flags=0x8180, question=None):
    """An answer to `q` with `count` records `answers` (raw bytes); `question` replaces the question section."""
    _, _, end = question_of(q)
    qsec = q[12:end] if question is None else question
    return q[:2] + struct.pack("!HHHHH", flags, 1, count, 0, 0) + qsec + answers


def a_record(addr, owner=b"\xc0\x0c", ttl=60):
    """An A record for `owner` (the question's name by default)."""
    return owner + struct.pack("!HHIH", 1, 1, ttl, 4) + socket.inet_aton(addr)


def cname_record(target, owner=b"\xc0\x0c", ttl=60):
    """A CNAME record from `owner` to `target`."""
    data = encode_name(target)
    return owner + struct.pack("!HHIH", 5, 1, ttl, len(data)) + data


class ScriptedDNS:
    """`answer(q, name, qtype)` returns the bytes to send, None for no answer, or (delay_seconds, bytes) for a late
    one; `asked` lists (name, qtype)."""

    def __init__(self, answer):
        self.answer = answer
        self.asked = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.02)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.late = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            now = time.monotonic()
            due = [x for x in self.late if x[0] <= now]
            self.late = [x for x in self.late if x[0] > now]
            for _, data, peer in due:
                self._send(data, peer)
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            name, qtype, _ = question_of(q)
            self.asked.append((name, qtype))
            out = self.answer(q, name, qtype)
            if isinstance(out, tuple):
                self.late.append((time.monotonic() + out[0], out[1], peer))
            elif out is not None:
                self._send(out, peer)

    def _send(self, data, peer):
        try:
            self.sock.sendto(data, peer)
        except OSError:
            pass

    def close(self):
        self.stopping = True
        self.sock.close()
