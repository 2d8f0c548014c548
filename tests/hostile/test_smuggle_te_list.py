"""smuggle: a Transfer-Encoding list with an empty element (`, chunked`, `chunked,`, an empty line beside one that
says chunked) was accepted as chunked and forwarded as it came; an origin that reads the list another way (the value
compared whole, or the first line only) frames the body as nothing and parses its chunks as the next request. HAProxy
2.6 answers 422 and nginx 1.22 501 to these; berth answers 400 and forwards nothing."""
import pytest

from hostile_wire import status_of
from smuggle_wire import through_berth

SMUGGLED = "GET /SMUGGLED HTTP/1.1\r\nHost: {A}\r\n\r\n"
BODY = "%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED.replace("{A}", "127.0.0.1:65535")), SMUGGLED)


@pytest.mark.parametrize("te_lines", [
    "Transfer-Encoding: , chunked\r\n",
    "Transfer-Encoding: chunked,\r\n",
    "Transfer-Encoding: chunked, \t,\r\n",
    "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n",
    "Transfer-Encoding: chunked\r\nTransfer-Encoding: \r\n",
])
def test_an_empty_coding_is_refused_and_nothing_forwarded(berth, te_lines):
    b = berth()
    raw = "POST http://{A}/a HTTP/1.1\r\nHost: {A}\r\n" + te_lines + "\r\n" + BODY
    answer, how, origin = through_berth(b.proxy, raw)
    assert status_of(answer) == 400, answer[:200]
    assert b"malformed Transfer-Encoding" in answer and b"(invalid-transfer-encoding)" in answer, answer
    assert origin == b"", origin


def test_a_lone_chunked_still_goes_through(berth):
    b = berth()
    raw = "POST http://{A}/a HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    answer, how, origin = through_berth(b.proxy, raw)
    assert status_of(answer) == 200, answer[:200]
    assert origin.endswith(b"Transfer-Encoding: chunked\r\n" + origin.split(b"Transfer-Encoding: chunked\r\n", 1)[1]), origin
    assert origin.count(b"Transfer-Encoding") == 1 and origin.endswith(b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), origin
