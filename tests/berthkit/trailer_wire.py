"""The raw-socket pieces of the trailer and drip tests: a caller's chunked POST head, bytes dripped a few a write, an
answer read until it ends as expected, and an origin's read of an upload through its trailer section."""
import time


def chunked_post(hostport, path="/u", fields=""):
    """The head of an absolute-form chunked POST to `hostport` through the proxy; `fields` ("Name: v\\r\\n"...) go
    before Transfer-Encoding."""
    return (f"POST http://{hostport}{path} HTTP/1.1\r\nHost: {hostport}\r\n{fields}"
            "Transfer-Encoding: chunked\r\n\r\n").encode()


def drip(sock, data, step=1, pause=0.001):
    """Sends `data` `step` bytes a write, `pause` seconds before each, so the peer reads it in pieces (a caller's
    socket, or a raw origin's ServerConn)."""
    for i in range(0, len(data), step):
        time.sleep(pause)
        sock.sendall(data[i:i + step])


def read_until_suffix(sock, suffix, raw=b""):
    """Reads from `sock` (after `raw`, already read) until what came ends with `suffix`; the peer ending first
    fails the test. Returns everything read, `raw` included."""
    while not raw.endswith(suffix):
        chunk = sock.recv(65536)
        assert chunk, f"the connection ended before {suffix!r}: {raw[-200:]!r}"
        raw += chunk
    return raw


def read_through_trailer(conn):
    """On an origin's ServerConn whose request head is read: the chunked body as framed, through the blank line
    ending the trailer section. Assumes no chunk's data holds CRLF then '0' (the tests' bodies do not)."""
    body = conn.read_until(b"\r\n0")
    return body + conn.read_until(b"\r\n\r\n")
