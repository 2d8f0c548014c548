"""The session fuzzer's cases: caller and response seeds (the smuggling corpus among them), mutation, splits, delays."""
from berthkit.smuggling_corpus import SMUGGLED_MARK, corpus
from fuzzed_berth import SOCKET_TIMEOUT


TOKENS = [b"\r\n", b"\n", b"\r", b" ", b"\t", b":", b",", b";", b"0", b"1", b"-1", b"\x00", b"\xff", b"chunked",
          b"Transfer-Encoding: chunked\r\n", b"Content-Length: 5\r\n", b"Content-Length: 0\r\n", b"Connection: close\r\n",
          b"ffffffffffffffff", b"0\r\n\r\n", b"HTTP/1.1", b"HTTP/1.0", b"\r\n\r\n", b"Expect: 100-continue\r\n",
          b"Upgrade: websocket\r\nConnection: upgrade\r\n", b"Host: x\r\n", f"GET /{SMUGGLED_MARK} HTTP/1.1\r\n".encode()]


def caller_seeds(hp):
    s = [
        f"GET http://{hp}/fz/get HTTP/1.1\r\nHost: {hp}\r\n\r\n",
        f"GET /fz/origin-form HTTP/1.1\r\nHost: {hp}\r\nAccept: */*\r\n\r\n",
        f"POST http://{hp}/fz/post HTTP/1.1\r\nHost: {hp}\r\nContent-Length: 11\r\n\r\nhello world",
        f"POST http://{hp}/fz/chunked HTTP/1.1\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
        f"HEAD http://{hp}/fz/head HTTP/1.1\r\nHost: {hp}\r\n\r\n",
        f"GET http://{hp}/fz/http10 HTTP/1.0\r\n\r\n",
        f"PUT http://{hp}/fz/expect HTTP/1.1\r\nHost: {hp}\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody",
        f"GET http://{hp}/fz/pipe1 HTTP/1.1\r\nHost: {hp}\r\n\r\nGET http://{hp}/fz/pipe2 HTTP/1.1\r\nHost: {hp}\r\n\r\n",
        f"DELETE http://{hp}/fz/delete HTTP/1.1\r\nHost: {hp}\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
        f"OPTIONS http://{hp}/fz/options HTTP/1.1\r\nHost: {hp}\r\nConnection: keep-alive, x-foo\r\nX-Foo: 1\r\n\r\n",
    ]
    return [x.encode("latin-1") for x in s] + [raw for _, raw in corpus(hp)]


RESPONSE_SEEDS = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited body",
    b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nX-A: b\r\n\r\nnot found",
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x\r\n\r\n3\r\nabc\r\n0\r\nx: y\r\n\r\n",
]


def mutate(rnd, data, others):
    data = bytearray(data)
    for _ in range(rnd.choice((0, 1, 1, 2, 3, 4))):
        op = rnd.randrange(8)
        pos = rnd.randrange(len(data) + 1)
        if op == 0 and data:  # flip a byte
            data[min(pos, len(data) - 1)] = rnd.randrange(256)
        elif op == 1:  # insert an interesting token
            data[pos:pos] = rnd.choice(TOKENS)
        elif op == 2 and data:  # delete a range
            del data[pos:pos + rnd.randrange(1, 12)]
        elif op == 3 and data:  # duplicate a range
            end = min(len(data), pos + rnd.randrange(1, 40))
            data[end:end] = data[pos:end]
        elif op == 4:  # splice another seed
            other = rnd.choice(others)
            cut = rnd.randrange(len(other) + 1)
            data = data[:pos] + bytearray(other[cut:])
        elif op == 5 and data:  # truncate
            data = data[:pos]
        elif op == 6:  # change a digit run
            digits = [i for i, b in enumerate(data) if 48 <= b <= 57]
            if digits:
                i = rnd.choice(digits)
                data[i:i + 1] = str(rnd.choice((0, 1, 9, 99, 65536, 2 ** 40, -1))).encode()
        elif op == 7:  # random bytes
            data[pos:pos] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 8)))
    return bytes(data)


def make_case(rnd, hp):
    seeds = caller_seeds(hp)
    caller = rnd.choice(seeds)
    if rnd.random() < 0.75:
        caller = mutate(rnd, caller, seeds)
    splits = sorted(rnd.sample(range(1, max(2, len(caller))), k=min(rnd.randrange(0, 3), max(0, len(caller) - 2))))
    resp = rnd.choice(RESPONSE_SEEDS)
    if rnd.random() < 0.6:
        resp = mutate(rnd, resp, RESPONSE_SEEDS)
    cut = sorted(rnd.sample(range(1, max(2, len(resp))), k=min(rnd.randrange(0, 3), max(0, len(resp) - 2))))
    delays = [rnd.choice((0, 0, 0, 0.01, 0.05, SOCKET_TIMEOUT + 0.2)) for _ in range(len(cut) + 1)]
    end = rnd.choice(("keep", "keep", "close", "rst"))
    return {"caller": caller, "caller_splits": splits, "response": resp, "response_cuts": cut,
            "response_delays": delays, "upstream_end": end, "half_close": rnd.random() < 0.2}
