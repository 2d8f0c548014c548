"""smug3's suspicion, made a refusal: a chunk extension is forwarded as it came, and berth checked only its bytes, so
`5;a="x` (a quote never closed), `5;a=x"y`, `5;=x` and `5; a b` reached the origin as sent. An origin that reads a
quoted string past the line's end would frame the body otherwise than berth (HAProxy drops extensions and nginx
re-frames, so neither passes them on). berth now checks RFC 9112 7.1.1's grammar and answers 400, the line unsent."""
import pytest

from hostile_wire import status_of
from smuggle_wire import through_berth

POST = ("POST http://{A}/a HTTP/1.1\r\nHost: {A}\r\nTransfer-Encoding: chunked\r\n\r\n"
        "%s\r\nhello\r\n0\r\n\r\n")
BAD = ['5;a="x', '5;a=x"y', '5;=x', '5; a b', '5;a=', '5;a="b"c', '5;a=b ']
GOOD = ['5;a=b', '5 ; a = "q\\"x" ;c', '5;a="b;c=d"']


@pytest.mark.parametrize("line", BAD)
def test_a_malformed_chunk_extension_is_refused_and_never_forwarded(berth, line):
    b = berth()
    answer, how, got = through_berth(b.proxy, POST % line)
    assert status_of(answer) == 400, answer
    assert b"invalid" in answer.lower(), answer
    assert line.encode() not in got, got


@pytest.mark.parametrize("line", GOOD)
def test_a_well_formed_chunk_extension_goes_through_as_it_came(berth, line):
    b = berth()
    answer, how, got = through_berth(b.proxy, POST % line)
    assert status_of(answer) == 200, answer
    assert (line + "\r\nhello\r\n0\r\n\r\n").encode() in got, got
