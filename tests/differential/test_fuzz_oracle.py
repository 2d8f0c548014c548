"""The session fuzzer's oracle: its llhttp view of a caller stream reads past extension methods, as berth does."""
from berthkit.llhttp_views import parse_requests


def test_an_extension_method_keeps_the_requests_after_it_visible():
    # Found by the fuzzer (seed 9191): llhttp refused `GE`, so the pipelined request after it counted as one the
    # caller never sent when berth forwarded it.
    stream = (b"GE http://127.0.0.1:1/fz/pipe1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"
              b"GET http://127.0.0.1:1/fz/pipe2 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n")
    targets, complete, methods, err = parse_requests(stream)
    assert targets == ["http://127.0.0.1:1/fz/pipe1", "http://127.0.0.1:1/fz/pipe2"]
    assert complete == 2 and err is None


def test_a_method_that_is_not_a_token_is_still_refused():
    targets, complete, _, err = parse_requests(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nG@T /b HTTP/1.1\r\nHost: x\r\n\r\n")
    assert targets == ["/a"] and complete == 1
    assert err == "InvalidMethodError"


def test_an_extension_method_after_a_body_is_found_where_its_message_begins():
    stream = (b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET \r\n"
              b"FROB /b HTTP/1.1\r\nHost: x\r\n\r\n")
    targets, complete, _, err = parse_requests(stream)
    assert targets == ["/a", "/b"] and complete == 2 and err is None


def test_content_length_fields_of_one_value_are_read_once_as_berth_reads_them():
    # Found by the fuzzer (seed 17): the field twice with one value, which berth forwards once (reliability item 12)
    # and llhttp refuses, made the forwarded DELETE one the caller "never sent".
    stream = (b"DELETE http://127.0.0.1:1/fz/delete HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Length: 3\r\n"
              b"X: y\r\nContent-Length: 3\r\n\r\nabc"
              b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nxyGET /c HTTP/1.1\r\nHost: x\r\n\r\n")
    targets, complete, _, err = parse_requests(stream)
    assert targets == ["http://127.0.0.1:1/fz/delete", "/b", "/c"] and complete == 3 and err is None


def test_content_length_fields_that_disagree_are_still_refused():
    _, complete, _, err = parse_requests(b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
    assert complete == 0 and err == "UnexpectedContentLengthError"
    _, complete, _, err = parse_requests(b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd")
    assert complete == 0 and err == "InvalidContentLengthError"
