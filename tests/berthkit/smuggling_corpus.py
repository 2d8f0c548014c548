"""Request-smuggling corpus, shared by tests/e2e/test_e2e_caller_abuse.py and fuzz/session/fuzz_session.py.

corpus(hostport) -> list of (name, raw bytes). Each item is ONE request as a correct HTTP/1.1 parser frames it
(or an invalid one); a parser that frames it differently sees a second request for /SMUGGLED. The upstream must
never parse a request whose target contains SMUGGLED.
"""

SMUGGLED_MARK = "SMUGGLED"


def corpus(hp):
    smug = f"GET /{SMUGGLED_MARK} HTTP/1.1\r\nHost: {hp}\r\n\r\n"
    start = f"POST http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\n"
    n = len(smug)
    chunked_smug = f"{len(smug):x}\r\n{smug}\r\n0\r\n\r\n"
    items = {
        # CL.TE: the front end uses CL, the back end TE
        "cl.te": start + f"Content-Length: {5 + n}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smug,
        # TE.CL: the front end uses TE, the back end CL
        "te.cl": start + f"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + chunked_smug,
        "te.cl-order": start + f"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_smug,
        # TE.TE: obfuscated Transfer-Encoding, with a CL that frames differently
        "te-xchunked": start + f"Transfer-Encoding: xchunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-space-before-colon": start + f"Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n" + chunked_smug,
        "te-tab": start + f"Transfer-Encoding:\tchunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-dup-second-bogus": start + "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n"
                                       f"Content-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-dup-first-bogus": start + "Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_smug,
        "te-list-identity-last": start + f"Transfer-Encoding: chunked, identity\r\n\r\n" + chunked_smug,
        "te-list-chunked-twice": start + f"Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked_smug,
        "te-upper": start + f"Transfer-Encoding: CHUNKED\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-quoted": start + f"Transfer-Encoding: \"chunked\"\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-obs-fold": start + f"Transfer-Encoding:\r\n chunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-leading-space-line": start + f" Transfer-Encoding: chunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n"
                                         + smug,
        "te-bare-lf": start + f"X: y\nTransfer-Encoding: chunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-vtab": start + f"Transfer-Encoding:\x0bchunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-nul": start + f"Transfer-Encoding: chunked\x00\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-underscore": start + f"Transfer_Encoding: chunked\r\nContent-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-http10": f"POST http://{hp}/first HTTP/1.0\r\nHost: {hp}\r\nTransfer-Encoding: chunked\r\n"
                     f"Content-Length: {5 + n}\r\n\r\n0\r\n\r\n" + smug,
        "te-in-connection": start + f"Connection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + chunked_smug,
        "cl-in-connection": start + f"Connection: Content-Length\r\nContent-Length: {n}\r\n\r\n" + smug,
        # duplicate / list / junk Content-Length
        "cl-dup-differ": start + f"Content-Length: 0\r\nContent-Length: {n}\r\n\r\n" + smug,
        "cl-dup-differ-rev": start + f"Content-Length: {n}\r\nContent-Length: 0\r\n\r\n" + smug,
        "cl-list-differ": start + f"Content-Length: {n}, 0\r\n\r\n" + smug,
        "cl-junk-suffix": start + f"Content-Length: 0abc\r\n\r\n" + smug,
        "cl-plus": start + f"Content-Length: +{n}\r\n\r\n" + smug,
        "cl-hex": start + f"Content-Length: 0x{n:x}\r\n\r\n" + smug,
        "cl-space-inside": start + f"Content-Length: 0 {n}\r\n\r\n" + smug,
        "cl-space-before-colon": start + f"Content-Length : 0\r\n\r\n" + smug,
        "cl-negative": start + f"Content-Length: -{n}\r\n\r\n" + smug,
        "cl-huge": start + "Content-Length: 99999999999999999999999999\r\n\r\n" + smug,
        "cl-leading-zeros-ok": start + f"Content-Length: 000{n}\r\n\r\n" + smug,  # one request, body = smug text
        # chunk-size tricks
        "chunk-overflow": start + "Transfer-Encoding: chunked\r\n\r\n" + "1" + "0" * 16 + "5\r\nhello\r\n0\r\n\r\n"
                          + smug,
        "chunk-negative": start + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n" + smug,
        "chunk-0x": start + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n" + smug,
        "chunk-space-in-size": start + "Transfer-Encoding: chunked\r\n\r\n5 5\r\nhello\r\n0\r\n\r\n" + smug,
        "chunk-ext-junk": start + "Transfer-Encoding: chunked\r\n\r\n5;a=\"b\r\n\"\r\nhello\r\n0\r\n\r\n" + smug,
        "chunk-bare-lf-size": start + "Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + smug,
        "chunk-data-too-long": start + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n" + smug,
        "chunk-last-bare-lf": start + "Transfer-Encoding: chunked\r\n\r\n0\n\r\n" + smug,
        "chunk-trailer-smuggle": start + "Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n" + smug,
        "chunk-leading-zeros": start + "Transfer-Encoding: chunked\r\n\r\n" + "0" * 40 + "5\r\nhello\r\n0\r\n\r\n"
                               + smug,
        "chunk-size-underscore": start + "Transfer-Encoding: chunked\r\n\r\n0_5\r\nhello\r\n0\r\n\r\n" + smug,
        # request line / head tricks
        "get-with-cl-body": f"GET http://{hp}/first HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {n}\r\n\r\n" + smug,
        "bare-cr-in-header": start + f"X: a\rContent-Length: {n}\r\nContent-Length: 0\r\n\r\n" + smug,
        "lf-only-head-end": start + f"Content-Length: {n}\n\n" + smug,
        "expect-100-cl": start + f"Expect: 100-continue\r\nContent-Length: {n}\r\n\r\n" + smug,
        "absolute-vs-host": f"POST http://{hp}/first HTTP/1.1\r\nHost: other.invalid\r\nContent-Length: 0\r\n"
                            f"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smug,
    }
    return [(k, v.encode("latin-1")) for k, v in items.items()]
