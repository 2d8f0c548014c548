"""The request byte strings of the smuggling differential: hand-written edge cases and seeded mutations of them.

Each case is (name, template); `cases()` fills the template for one proxy: {T} is the absolute target prefix
(`http://127.0.0.1:PORT/cNNN`, the case's number), {A} the authority, {S} a smuggled request in origin-form for /SMUGGLED.
"""
import random

P = "POST {T}/a HTTP/1.1\r\nHost: {A}\r\n"
G = "GET {T}/a HTTP/1.1\r\nHost: {A}\r\n"
NEXT = "GET {T}/next HTTP/1.1\r\nHost: {A}\r\n\r\n"
PC = P + "Transfer-Encoding: chunked\r\n\r\n"
S_LEN = "GET /SMUGGLED HTTP/1.1\r\nHost: {A}\r\n\r\n"


def te_case(te_lines):
    """A chunked body holding a smuggled request as data, behind `te_lines`, and a pipelined GET."""
    return P + te_lines + "\r\n" + "{SLEN}\r\n{S}\r\n0\r\n\r\n" + NEXT


def cl_case(cl_lines, body="hello"):
    return P + cl_lines + "\r\n" + body + NEXT


HAND = [
    ("plain-get", G + "\r\n"),
    ("plain-post-cl", cl_case("Content-Length: 5\r\n")),
    ("plain-post-chunked", te_case("Transfer-Encoding: chunked\r\n")),
    # CL + TE
    ("cl-te", P + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX" + NEXT),
    ("te-cl", P + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n{SLEN}\r\n{S}\r\n0\r\n\r\n" + NEXT),
    # TE variants
    ("te-chunked-identity", te_case("Transfer-Encoding: chunked, identity\r\n")),
    ("te-identity-chunked", te_case("Transfer-Encoding: identity, chunked\r\n")),
    ("te-Chunked", te_case("Transfer-Encoding: Chunked\r\n")),
    ("te-trailing-space", te_case("Transfer-Encoding: chunked \r\n")),
    ("te-trailing-tab", te_case("Transfer-Encoding: chunked\t\r\n")),
    ("te-leading-tab", te_case("Transfer-Encoding:\tchunked\r\n")),
    ("te-dup-lines", te_case("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
    ("te-split-lines", te_case("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n")),
    ("te-gzip-chunked", te_case("Transfer-Encoding: gzip, chunked\r\n")),
    ("te-empty-element", te_case("Transfer-Encoding: , chunked\r\n")),
    ("te-trailing-comma", te_case("Transfer-Encoding: chunked,\r\n")),
    ("te-empty-line-first", te_case("Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n")),
    ("te-http10", "POST {T}/a HTTP/1.0\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n{SLEN}\r\n{S}\r\n0\r\n\r\n" + NEXT),
    ("te-http10-cl", "POST {T}/a HTTP/1.0\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
     "{SLEN}\r\n{S}\r\n0\r\n\r\n" + NEXT),
    ("te-xchunked", te_case("Transfer-Encoding: xchunked\r\n")),
    ("te-space-before-colon", te_case("Transfer-Encoding : chunked\r\n")),
    ("te-obs-fold", te_case("Transfer-Encoding:\r\n chunked\r\n")),
    ("te-nul", te_case("Transfer-Encoding: chunked\x00\r\n")),
    ("te-bare-cr-value", te_case("Transfer-Encoding: chunked\rX: y\r\n")),
    # CL variants
    ("cl-plus", cl_case("Content-Length: +5\r\n")),
    ("cl-leading-zero", cl_case("Content-Length: 05\r\n")),
    ("cl-trailing-space", cl_case("Content-Length: 5 \r\n")),
    ("cl-list-same", cl_case("Content-Length: 5,5\r\n")),
    ("cl-list-differ", cl_case("Content-Length: 5, 6\r\n")),
    ("cl-dup-differ", cl_case("Content-Length: 5\r\nContent-Length: 6\r\n")),
    ("cl-empty", cl_case("Content-Length: \r\n")),
    ("cl-huge", cl_case("Content-Length: 99999999999999999999999\r\n")),
    ("cl-negative", cl_case("Content-Length: -5\r\n")),
    ("cl-hex", cl_case("Content-Length: 0x5\r\n")),
    ("cl-zeros-30", cl_case("Content-Length: " + "0" * 30 + "5\r\n")),
    ("cl-name-case", cl_case("content-LENGTH: 5\r\n")),
    ("te-name-case", te_case("TRANSFER-encoding: chunked\r\n")),
    ("cl-exact-pipelined", cl_case("Content-Length: 5\r\n")),
    ("cl-short", cl_case("Content-Length: 3\r\n")),
    ("cl-long", P + "Content-Length: 10\r\n\r\nhello" + NEXT),
    # chunk sizes
    ("chunk-0x", PC + "0x5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-ext", PC + "5;ext=1\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-bws-ext", PC + "5 ;ext\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-tab", PC + "5\t\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-trailing-space", PC + "5 \r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-zeros-100", PC + "0" * 100 + "5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-zeros-12", PC + "0" * 12 + "5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-bare-lf", PC + "5\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-bare-cr", PC + "5\rhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-negative", PC + "-1\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-overflow", PC + "10000000000000005\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-data-no-crlf", PC + "3\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-data-lf-only", PC + "5\r\nhello\n0\r\n\r\n" + NEXT),
    ("chunk-last-ext-lf", PC + "5\r\nhello\r\n0;x\n\r\n" + NEXT),
    ("trailer-bare-cr", PC + "5\r\nhello\r\n0\r\nX: a\rb\r\n\r\n" + NEXT),
    ("trailer-cl", PC + "5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n" + NEXT),
    ("trailer-te", PC + "5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n" + NEXT),
    ("trailer-host", PC + "5\r\nhello\r\n0\r\nHost: evil.example\r\n\r\n" + NEXT),
    # header syntax
    ("space-before-colon", G + "X-A : b\r\n\r\n" + NEXT),
    ("cl-space-before-colon", cl_case("Content-Length : 5\r\n")),
    ("bare-cr-value", G + "X-A: b\rc\r\n\r\n" + NEXT),
    ("nul-value", G + "X-A: b\x00c\r\n\r\n" + NEXT),
    ("obs-fold", G + "X-A: b\r\n c\r\n\r\n" + NEXT),
    ("bare-lf-head", "GET {T}/a HTTP/1.1\nHost: {A}\n\n" + NEXT),
    ("long-value-8k", G + "X-L: " + "v" * 8000 + "\r\n\r\n" + NEXT),
    ("long-value-64k", G + "X-L: " + "v" * 65000 + "\r\n\r\n" + NEXT),
    ("many-fields", G + "".join(f"X-{i}: v\r\n" for i in range(150)) + "\r\n" + NEXT),
    # request lines
    ("rl-two-spaces", "GET  {T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-trailing-space", "GET {T}/a HTTP/1.1 \r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-tab", "GET\t{T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-http110", "GET {T}/a HTTP/1.10\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-http20", "GET {T}/a HTTP/2.0\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-lowercase-version", "GET {T}/a http/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-userinfo", "GET http://u@{A}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-userinfo-other-host", "GET http://{A}@evil.invalid/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-fragment", "GET {T}/a#frag HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-port-port", "GET http://{A}:80/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-ipv6-loopback", "GET http://[::1]:1/a HTTP/1.1\r\nHost: [::1]:1\r\n\r\n" + NEXT),
    ("rl-ipv6-mapped", "GET http://[::ffff:127.0.0.1]:1/a HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT),
    ("rl-ipv6-unbracketed", "GET http://::1:80/a HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT),
    ("rl-no-path", "GET http://{A} HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("rl-query-only", "GET http://{A}?q=1 HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    # Host
    ("host-disagrees", "GET {T}/a HTTP/1.1\r\nHost: evil.example\r\n\r\n" + NEXT),
    ("host-two", "GET {T}/a HTTP/1.1\r\nHost: {A}\r\nHost: evil.example\r\n\r\n" + NEXT),
    ("host-port-mismatch", "GET {T}/a HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n" + NEXT),
    ("host-empty", "GET {T}/a HTTP/1.1\r\nHost:\r\n\r\n" + NEXT),
    ("host-missing-11", "GET {T}/a HTTP/1.1\r\n\r\n" + NEXT),
    ("host-missing-10", "GET {T}/a HTTP/1.0\r\n\r\n"),
    # Connection listing framing and other fields
    ("conn-close-cl", P + "Connection: close, content-length\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("conn-cl-keep", P + "Connection: content-length\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("conn-te", P + "Connection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("conn-host", G + "Connection: host\r\n\r\n" + NEXT),
    ("conn-via-x", G + "Connection: via, x-drop\r\nVia: 1.1 other\r\nX-Drop: 1\r\nX-Keep: 1\r\n\r\n" + NEXT),
    ("conn-keepalive-te-trailer", G + "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
     "Trailer: X\r\nProxy-Connection: keep-alive\r\n\r\n" + NEXT),
    ("via-existing", G + "Via: 1.1 a\r\nVia: 1.0 b\r\n\r\n" + NEXT),
    ("upgrade-cl", P + "Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("upgrade-no-conn", P + "Upgrade: websocket\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("expect-continue", P + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("expect-continue-upper", P + "Expect: 100-Continue\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("expect-other", P + "Expect: something\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("expect-no-body", G + "Expect: 100-continue\r\n\r\n" + NEXT),
    # methods with bodies
    ("get-cl", G + "Content-Length: 5\r\n\r\nhello" + NEXT),
    ("head-chunked", "HEAD {T}/a HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("options-chunked", "OPTIONS {T}/a HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
     + NEXT),
    ("delete-chunked", "DELETE {T}/a HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
     + NEXT),
    ("connect-body", "CONNECT {A} HTTP/1.1\r\nHost: {A}\r\nContent-Length: 38\r\n\r\n" + S_LEN),
    ("http10-keepalive-cl", "POST {T}/a HTTP/1.0\r\nHost: {A}\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello"
     + NEXT),
    # more known lines than the header records hold: the serializer's slow path
    ("many-known-fields", P + "Via: 1.1 a\r\n" * 40 + "Connection: x-drop\r\n" * 40 + "X-Drop: 1\r\nX-Keep: 1\r\n"
     "Content-Length: 5\r\n\r\nhello" + NEXT),
    ("cl-repeated-many", P + "Content-Length: 5\r\n" * 60 + "\r\nhello" + NEXT),
    ("cl-repeated-many-conn", P + "Connection: x-drop\r\n" * 30 + "Content-Length: 5\r\n" * 40 + "X-Drop: 1\r\n\r\nhello"
     + NEXT),
    ("te-after-many-known", P + "Via: 1.1 a\r\n" * 80 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT),
    # requests berth answers itself, with a body that holds a request: never parsed as one
    ("refused-host-cl", "POST http://;x/a HTTP/1.1\r\nHost: x\r\nContent-Length: 38\r\n\r\n" + S_LEN + NEXT),
    ("refused-host-chunked", "POST http://;x/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{SLEN}\r\n{S}\r\n"
     "0\r\n\r\n" + NEXT),
    ("refused-timeout-cl", P + "Berth-Socket-Timeout: soon\r\nContent-Length: 38\r\n\r\n" + S_LEN + NEXT),
    ("refused-port-cl", "POST http://127.0.0.1:0/a HTTP/1.1\r\nHost: 127.0.0.1:0\r\nContent-Length: 38\r\n\r\n" + S_LEN + NEXT),
    # origin-form, routed by Host
    ("origin-form", "GET /c000/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("origin-form-host-userinfo", "GET /a HTTP/1.1\r\nHost: u@{A}\r\n\r\n" + NEXT),
    ("origin-form-host-port-port", "GET /a HTTP/1.1\r\nHost: {A}:80\r\n\r\n" + NEXT),
    ("origin-form-host-path", "GET /a HTTP/1.1\r\nHost: {A}/x\r\n\r\n" + NEXT),
    ("origin-form-two-hosts", "GET /a HTTP/1.1\r\nHost: {A}\r\nHost: {A}\r\n\r\n" + NEXT),
    ("authority-form-get", "GET {A} HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("asterisk-options", "OPTIONS * HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("absolute-upper-scheme", "GET HTTP://{A}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("absolute-no-slashes", "GET http:{A}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("absolute-backslash", "GET http://{A}\\@evil.invalid/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("absolute-percent-host", "GET http://127.0.0.%31:{PORT}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("http10-no-framing-body", "POST {T}/a HTTP/1.0\r\nHost: {A}\r\nConnection: keep-alive\r\n\r\nhello" + NEXT),
    # chunk extensions and trailer sections (trail2): the last chunk is held until its section is whole
    ("chunk-ext-3k", PC + "5;e=" + "x" * 3000 + "\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk-ext-5k", PC + "5;e=" + "x" * 5000 + "\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("last-chunk-ext-5k", PC + "5\r\nhello\r\n0;e=" + "x" * 5000 + "\r\n\r\n" + NEXT),
    ("chunk-ext-quoted", PC + '5;e="a;b=c"\r\nhello\r\n0;f="\\""\r\n\r\n' + NEXT),
    ("chunk-ext-nul", PC + "5;e=a\x00b\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("last-chunk-zeros-15", PC + "5\r\nhello\r\n" + "0" * 15 + "\r\n\r\n" + NEXT),
    ("last-chunk-zeros-16", PC + "5\r\nhello\r\n" + "0" * 16 + "\r\n\r\n" + NEXT),
    ("trailer-obs-fold", PC + "5\r\nhello\r\n0\r\nX-A: 1\r\n folded\r\n\r\n" + NEXT),
    ("trailer-bare-lf", PC + "5\r\nhello\r\n0\r\nX-A: 1\n\r\n" + NEXT),
    ("trailer-bare-lf-end", PC + "5\r\nhello\r\n0\r\nX-A: 1\r\n\n" + NEXT),
    ("trailer-nul", PC + "5\r\nhello\r\n0\r\nX-A: a\x00b\r\n\r\n" + NEXT),
    ("trailer-space-before-colon", PC + "5\r\nhello\r\n0\r\nX-A : 1\r\n\r\n" + NEXT),
    ("trailer-no-colon", PC + "5\r\nhello\r\n0\r\nX-A\r\n\r\n" + NEXT),
    ("trailer-17k", PC + "5\r\nhello\r\n0\r\nX-A: " + "t" * 17000 + "\r\n\r\n" + NEXT),
    ("trailer-request-line", PC + "5\r\nhello\r\n0\r\nGET /SMUGGLED HTTP/1.1\r\n\r\n" + NEXT),
    # smug2: chunk-size spellings, chunk data ends, line ends, folds and controls in framing fields
    ("s2-chunk-semi-empty", PC + "5;\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-semi-1", PC + "1;\r\nh\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-sp-ext", PC + "1 ;ext\r\nh\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-plus", PC + "+5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-0x1", PC + "0x1\r\nh\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-zeros-15", PC + "0" * 14 + "5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-zeros-16", PC + "0" * 15 + "5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-u64-overflow", PC + "ffffffffffffffff1\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-u64-wrap", PC + "10000000000000000\r\n\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-upper-hex", PC + "A\r\nhellohello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-data-XX", PC + "5\r\nhelloXX0\r\n\r\n" + NEXT),
    ("s2-chunk-data-CR-only", PC + "5\r\nhello\r0\r\n\r\n" + NEXT),
    ("s2-chunk-data-LF-smuggle", PC + "5\r\nhello\n{SLEN}\r\n{S}\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-lf-everywhere", PC + "5\nhello\n0\n\n" + NEXT),
    ("s2-chunk-ext-obs-text", PC + "5;a=\xff\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-ext-del", PC + "5;a=\x7f\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-ext-bare-lf", PC + "5;a\nb\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-chunk-ext-quoted-semi", PC + "5;a=\"b;c\"\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-last-chunk-zeros", PC + "5\r\nhello\r\n000\r\n\r\n" + NEXT),
    ("s2-last-chunk-ext", PC + "5\r\nhello\r\n0;x=y\r\n\r\n" + NEXT),
    ("s2-last-chunk-bws", PC + "5\r\nhello\r\n0 \r\n\r\n" + NEXT),
    ("s2-trailer-obs-fold", PC + "5\r\nhello\r\n0\r\nX: a\r\n b\r\n\r\n" + NEXT),
    ("s2-trailer-lf-end", PC + "5\r\nhello\r\n0\r\nX: a\r\n\n" + NEXT),
    ("s2-te-formfeed", te_case("Transfer-Encoding: chunked\x0c\r\n")),
    ("s2-te-vtab-before", te_case("Transfer-Encoding:\x0bchunked\r\n")),
    ("s2-te-param", te_case("Transfer-Encoding: chunked;q=1\r\n")),
    ("s2-te-quoted", te_case("Transfer-Encoding: \"chunked\"\r\n")),
    ("s2-te-mixed-case", te_case("Transfer-Encoding: cHuNkEd\r\n")),
    ("s2-te-kelvin", te_case("Transfer-Encoding: chun\xe2\x84\xaaed\r\n")),
    ("s2-te-chunked-chunked", te_case("Transfer-Encoding: chunked, chunked\r\n")),
    ("s2-te-obs-fold-after", te_case("Transfer-Encoding: chunked\r\n , identity\r\n")),
    ("s2-te-name-bare-cr", te_case("Transfer-Encoding\r: chunked\r\n")),
    ("s2-te-cl-lf-line", P + "Transfer-Encoding: chunked\nContent-Length: 3\r\n\r\n{SLEN}\r\n{S}\r\n0\r\n\r\n" + NEXT),
    ("s2-te-http10-cl", "POST {T}/a HTTP/1.0\r\nHost: {A}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
     "hello" + NEXT),
    ("s2-cl-obs-fold", P + "Content-Length:\r\n 5\r\n\r\nhello" + NEXT),
    ("s2-cl-list-same-sp", cl_case("Content-Length: 5, 5\r\n")),
    ("s2-cl-list-three", cl_case("Content-Length: 5,5,5\r\n")),
    ("s2-cl-dup-same", cl_case("Content-Length: 5\r\nContent-Length: 5\r\n")),
    ("s2-cl-dup-same-list", cl_case("Content-Length: 5\r\nContent-Length: 5, 5\r\n")),
    ("s2-cl-list-trailing-comma", cl_case("Content-Length: 5,\r\n")),
    ("s2-cl-list-leading-comma", cl_case("Content-Length: ,5\r\n")),
    ("s2-cl-vtab", cl_case("Content-Length: 5\x0b\r\n")),
    ("s2-cl-tab-around", cl_case("Content-Length:\t5\t\r\n")),
    ("s2-cl-19-digits", cl_case("Content-Length: 0000000000000000005\r\n")),
    ("s2-cl-2pow62", cl_case("Content-Length: 4611686018427387905\r\n")),
    ("s2-cl-fullwidth", cl_case("Content-Length: \xef\xbc\x95\r\n")),
    ("s2-cl-dup-name-case", cl_case("Content-Length: 5\r\ncontent-length: 6\r\n")),
    ("s2-cl-and-chunked-in-conn", P + "Connection: close\r\nContent-Length: 5\r\nTransfer-Encoding: identity\r\n\r\n"
     "hello" + NEXT),
    ("s2-host-obs-fold", "GET {T}/a HTTP/1.1\r\nHost:\r\n {A}\r\n\r\n" + NEXT),
    ("s2-host-bare-cr", "GET {T}/a HTTP/1.1\r\nHost: {A}\rX\r\n\r\n" + NEXT),
    ("s2-host-trailing-tab", "GET /c000/a HTTP/1.1\r\nHost: {A}\t\r\n\r\n" + NEXT),
    ("s2-host-upper", "GET /c000/a HTTP/1.1\r\nHost: LOCALHOST:{PORT}\r\n\r\n" + NEXT),
    ("s2-host-comma", "GET /c000/a HTTP/1.1\r\nHost: {A},evil.invalid\r\n\r\n" + NEXT),
    ("s2-abs-userinfo-at", "GET http://a@{A}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-empty-host", "GET http:///a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-empty-port", "GET http://127.0.0.1:/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-port-zeros", "GET http://127.0.0.1:00{PORT}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-percent-00", "GET {T}/a%00b HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-nul", "GET {T}/a\x00b HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-space-in-path", "GET {T}/a b HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-tab-in-path", "GET {T}/a\tb HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-query-space-smuggle", "GET {T}/a?x HTTP/1.1\r\nHost: {A}\r\n\r\nGET /SMUGGLED HTTP/1.1 HTTP/1.1\r\n"
     "Host: {A}\r\n\r\n" + NEXT),
    ("s2-abs-fragment-only", "GET {T}# HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-dotdot", "GET {T}/../../x HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-abs-ipv6-zone", "GET http://[fe80::1%25lo]:1/a HTTP/1.1\r\nHost: x\r\n\r\n" + NEXT),
    ("s2-method-odd-bytes", "G\x7fET {T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-method-lower-connect", "connect {A} HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-method-lower-head", "head {T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-method-long", "X" * 4000 + " {T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-http09", "GET /c000/a\r\n\r\n" + NEXT),
    ("s2-http09-abs", "GET {T}/a\r\n\r\n" + NEXT),
    ("s2-http11-trailing-cr", "GET {T}/a HTTP/1.1\r\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-leading-lf", "\nGET {T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-leading-crlfs", "\r\n\r\n\r\nGET {T}/a HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-http12", "GET {T}/a HTTP/1.2\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-http09-version", "GET {T}/a HTTP/0.9\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-line-8k", "GET {T}/" + "a" * 8150 + " HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-line-8k-over", "GET {T}/" + "a" * 8200 + " HTTP/1.1\r\nHost: {A}\r\n\r\n" + NEXT),
    ("s2-head-64k-over", G + "X-L: " + "v" * 66000 + "\r\n\r\n" + NEXT),
    ("s2-fields-100", G + "".join(f"X-{i}: v\r\n" for i in range(98)) + "\r\n" + NEXT),
    ("s2-fields-101", G + "".join(f"X-{i}: v\r\n" for i in range(100)) + "\r\n" + NEXT),
    ("s2-expect-te", P + "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-expect-http10", "POST {T}/a HTTP/1.0\r\nHost: {A}\r\nExpect: 100-continue\r\nConnection: keep-alive\r\n"
     "Content-Length: 5\r\n\r\nhello" + NEXT),
    ("s2-upgrade-chunked", P + "Connection: upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("s2-proxy-connection-close-cl", P + "Proxy-Connection: close\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("s2-conn-keepalive-list-close", G + "Connection: keep-alive, close\r\n\r\n" + NEXT),
    ("s2-cl-underscore-twin", P + "Content-Length: 5\r\nContent_Length: 0\r\n\r\nhello" + NEXT),
    ("s2-te-underscore-twin", P + "Content-Length: 5\r\nTransfer_Encoding: chunked\r\n\r\nhello" + NEXT),
    # smug3: cases the generator (smuggle_gen.py) found, pinned
    ("g3-chunk-ext-open-quote", PC + '5;a="x\r\nhello\r\n0\r\n\r\n' + NEXT),
    ("g3-host-trailing-dot", "GET {T}/a HTTP/1.1\r\nHost: 127.0.0.1.:{PORT}\r\n\r\n" + NEXT),
    ("g3-expect-twice", P + "Expect: 100-continue;a=b\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("g3-expect-twice-same", P + "Expect: 100-continue\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("g3-expect-param", P + "Expect: 100-continue;a=b\r\nContent-Length: 5\r\n\r\nhello" + NEXT),
    ("g3-expect-twice-get", G + "Expect: 100-continue\r\nExpect: 100-continue\r\n\r\n" + NEXT),
    ("g3-http10-cl-dup-same", "DELETE {T}/a HTTP/1.0\r\nHost: {A}\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"
     + NEXT),
]


def fill(template, target, authority):
    s = template.replace("{S}", S_LEN).replace("{T}", target).replace("{A}", authority)
    s = s.replace("{PORT}", authority.rsplit(":", 1)[1])
    smug = S_LEN.replace("{A}", authority)
    return s.replace("{SLEN}", f"{len(smug):x}").encode("latin-1")


MUTATION_BYTES = [b" ", b"\t", b"\r", b"\n", b"\x00", b",", b";", b"\x0b", b"0", b"\r\n", b"\r\n ", b"\xff"]


def mutate(raw, rng):
    """One small byte-level change near the framing: insert, delete or replace a byte, change case, or repeat a line."""
    head_end = raw.find(b"\r\n\r\n")
    limit = len(raw) if head_end < 0 else min(len(raw), head_end + 40)
    pos = rng.randrange(0, max(1, limit))
    op = rng.randrange(5)
    if op == 0:
        return raw[:pos] + rng.choice(MUTATION_BYTES) + raw[pos:]
    if op == 1:
        return raw[:pos] + raw[pos + 1:]
    if op == 2:
        return raw[:pos] + rng.choice(MUTATION_BYTES) + raw[pos + 1:]
    if op == 3:
        return raw[:pos] + raw[pos:pos + 1].swapcase() + raw[pos + 1:]
    lines = raw[:head_end].split(b"\r\n") if head_end > 0 else [raw]
    if len(lines) > 1:
        i = rng.randrange(1, len(lines))
        lines.insert(i, lines[i])
        return b"\r\n".join(lines) + raw[head_end:]
    return raw


SEEDS = ["plain-post-cl", "plain-post-chunked", "te-cl", "cl-te", "chunk-ext", "conn-close-cl", "upgrade-cl",
         "expect-continue", "host-disagrees"]


def cases(target, authority, mutations=60, seed=1):
    """(name, bytes) for one proxy: every hand-written case, then `mutations` seeded mutations of the SEEDS. The same
    seed gives the same mutation positions for every proxy (the authority's length is the same for each)."""
    out = [(name, fill(t, f"{target}/c{i:03d}", authority)) for i, (name, t) in enumerate(HAND)]
    by_name = dict(out)
    rng = random.Random(seed)
    for i in range(mutations):
        base = rng.choice(SEEDS)
        out.append((f"mut{i}-{base}", mutate(by_name[base], rng)))
    return out
