"""review14: heads of random lengths, forms and letter cases on one kept connection, each sent in pieces at random
byte places (or pipelined), forward only their own bytes: a head's text and field storage are reused with lengths of
their own (h-perf), and no byte of an earlier, longer head may reach the origin or the caller (target, Host, values
with bytes past 0x7F, reasons of a 103 and of the final answer)."""
import random
import socket
import time

from hostile_wire import connect

SEED = 14


def _values(head):
    """The start line and the header values (name lowercased) of a raw head, as bytes."""
    lines = head.split(b"\r\n")
    fields = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        fields.setdefault(k.strip().lower(), v.strip())
    return lines[0], fields


def _echo(conn):
    """Answers each request with its target, Host and X-V, under the reason X-R names (after a 103 when X-I asks)."""
    while True:
        try:
            raw = conn.read_until(b"\r\n\r\n")
        except (EOFError, OSError):
            return
        start, f = _values(raw[:-4])
        n = int(f.get(b"content-length", b"0"))
        if n:
            conn.read_exact(n)
        body = start.split(b" ")[1] + b"|" + f.get(b"host", b"") + b"|" + f.get(b"x-v", b"")
        if f.get(b"x-i"):
            conn.sendall(b"HTTP/1.1 103 " + f[b"x-i"] + b"\r\nLink: </a>\r\n\r\n")
        conn.sendall(b"HTTP/1.1 200 " + f.get(b"x-r", b"") + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def _word(rng, n, alphabet=b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"):
    return bytes(rng.choice(alphabet) for _ in range(n))


def _request(rng, hp):
    """One random request and what the origin must echo for it: (bytes, target seen, host seen, value, reason, interim)."""
    host, port = hp.split(":")
    path = b"/" + _word(rng, rng.choice([0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 300]))
    query = b"?" + _word(rng, rng.choice([1, 8, 200])) if rng.random() < 0.3 else b""
    form = rng.choice(["origin", "absolute", "absolute-nopath"])
    # A host with capitals is lowercased into the head's text (its own copy); the route is the same upstream.
    name = rng.choice([host, host, "localhost", "LocalHOST", "LOCALHOST"])
    authority = f"{name}:{port}".encode()
    if form == "origin":
        target, seen = path + query, path + query
    elif form == "absolute":
        target, seen = b"http://" + authority + path + query, path + query
    else:
        target, seen = b"http://" + authority + query, b"/" + query
    # Values of every length class, ending in bytes past 0x7F (obs-text) now and then.
    value = _word(rng, rng.choice([0, 1, 7, 8, 9, 31, 32, 33, 500]))
    if rng.random() < 0.3:
        value += bytes(rng.randrange(0x80, 0x100) for _ in range(rng.choice([1, 8, 9])))
    reason = _word(rng, rng.choice([0, 1, 2, 9, 40, 200]), b"ABCdef XYZ")
    reason = reason.strip() or b"OK"
    interim = _word(rng, rng.choice([5, 120]), b"Early Hints ").strip() if rng.random() < 0.2 else b""
    # Absolute form: berth sends the target's authority, its host lowercased; origin form: the Host field as sent.
    sent_host = authority if form == "origin" else authority.lower()
    head = b"GET " + target + b" HTTP/1.1\r\nHost: " + authority + b"\r\n"
    if value:
        head += b"X-V: " + value + b"\r\n"
    head += b"X-R: " + reason + b"\r\n"
    if interim:
        head += b"X-I: " + interim + b"\r\n"
    return head + b"\r\n", seen, sent_host, value, reason, interim


def _read_answer(s, buf):
    """One answer after any 103s: (interim reasons, final reason, body), reading more into buf as needed."""
    interims = []
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            assert chunk, f"closed early; had {bytes(buf[:300])!r}"
            buf += chunk
        head, _, _ = bytes(buf).partition(b"\r\n\r\n")
        del buf[: len(head) + 4]
        line = head.split(b"\r\n")[0]
        status, reason = line[9:12], line[13:]
        if status == b"103":
            interims.append(reason)
            continue
        n = int(_values(head)[1][b"content-length"])
        while len(buf) < n:
            chunk = s.recv(65536)
            assert chunk, "closed in a body"
            buf += chunk
        body = bytes(buf[:n])
        del buf[:n]
        return interims, reason, body


def test_random_heads_in_pieces_forward_only_their_own_bytes(berth, raw_origin):
    o = raw_origin(_echo)
    b = berth()
    rng = random.Random(SEED)
    s = connect(b.proxy, timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    try:
        for round_ in range(40):
            reqs = [_request(rng, o.hostport) for _ in range(rng.choice([1, 1, 3]))]
            wire = b"".join(r[0] for r in reqs)
            # Pieces at random byte places, each its own segment (a pause lets berth read it alone).
            cuts = sorted(rng.sample(range(1, len(wire)), min(3, len(wire) - 1)))
            last = 0
            for c in cuts + [len(wire)]:
                s.sendall(wire[last:c])
                last = c
                time.sleep(0.002)
            for raw, seen, authority, value, reason, interim in reqs:
                interims, got_reason, body = _read_answer(s, buf)
                want = seen + b"|" + authority + b"|" + value
                assert body == want, (round_, raw[:200], body[:600])
                assert got_reason == reason, (round_, raw[:200], got_reason)
                assert interims == ([interim] if interim else []), (round_, interims)
    finally:
        s.close()
