"""The loopback endpoint under attack: clients that trickle bytes, requests smuggled in an
unread body, duplicate headers, JSON that Python cannot parse. A real server on a free
port, raw bytes on 127.0.0.1; every socket has a timeout and every loop a bound."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from contextlib import contextmanager

import pytest

from textsort.frontends.server import ServerLimits, make_server


@contextmanager
def serving(clf, **limits):
    srv = make_server(clf, "127.0.0.1", 0, ServerLimits(**limits))
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


@pytest.fixture
def port(tiny_classifier):
    with serving(tiny_classifier) as p:
        yield p


def exchange(port: int, data: bytes) -> list[tuple[int, dict]]:
    """Send these bytes on one connection, close our side; every (status, JSON) answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    replies = []
    while got:
        head, _, rest = got.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if not head.startswith(b"HTTP/1.") or not length:  # not a reply this server would send
            return replies + [(0, {"error": got.decode("latin-1")})]
        replies.append((int(head.split()[1]), json.loads(rest[:int(length[1])])))
        got = rest[int(length[1]):]
    return replies


PREDICT = b'POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n\r\n{"text": "hi"}'


def test_a_normal_exchange_parses(port):
    assert [s for s, _ in exchange(port, PREDICT)] == [200]


# ---------------------------------------------------------------- slow clients

@pytest.mark.parametrize("partial", [
    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n",                            # headers never end
    b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n\r\n{\"te",  # nor the body
])
def test_a_request_not_whole_by_its_deadline_gets_408(tiny_classifier, partial):
    # the idle timeout (5 s) is far off: only the whole-request deadline can end it
    with serving(tiny_classifier, timeout_s=5, request_deadline_s=0.3) as port, \
            socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        start = time.monotonic()
        sock.sendall(partial)
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 408") and b"Connection: close" in reply
        assert time.monotonic() - start < 2


def _health_status(port: int) -> int | None:
    try:
        return exchange(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")[0][0]
    except OSError:  # a 503 can arrive as a reset
        return None


def test_trickling_connections_cannot_hold_every_slot(tiny_classifier):
    # 300 clients each send a byte every 0.2 s, well inside the idle timeout: before the
    # whole-request deadline they held all 256 slots for ever and every real request got 503.
    # The idle timeout is long (30 s) so that on a loaded machine no silent client is dropped
    # before the first check: only the deadline may free a slot here.
    with serving(tiny_classifier, timeout_s=30, request_deadline_s=0.3) as port:
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(300)]
        stop = threading.Event()

        def trickle():
            live = list(socks)
            for _ in range(50):  # 10 s at most
                for s in list(live):
                    try:
                        s.send(b"G")
                    except OSError:  # the server hung up
                        live.remove(s)
                if not live or stop.wait(0.2):
                    return

        thread = threading.Thread(target=trickle, daemon=True)
        try:
            # silent so far, so the deadline has not started: every slot is taken
            assert _health_status(port) in (503, None)
            thread.start()
            start, status = time.monotonic(), None
            while status != 200 and time.monotonic() - start < 2:
                time.sleep(0.05)
                status = _health_status(port)
            assert status == 200, "a normal request must get a slot within 2 s"
        finally:
            stop.set()
            if thread.is_alive():
                thread.join(5)
            for s in socks:
                s.close()


# ---------------------------------------------------------------- smuggling

def _body(b: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(b) + b


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + _body(PREDICT), 400),  # a GET with a body
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
     + b"%x\r\n" % len(PREDICT) + PREDICT + b"\r\n0\r\n\r\n", 400),
    (b"POST /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n" + _body(PREDICT), 404),  # refused before the body was read
    (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
     + _body(b'{"text": "hi"}'), 400),  # which length counts? neither
])
def test_a_body_is_never_read_as_the_next_request(port, request_bytes, status):
    replies = exchange(port, request_bytes)
    assert [s for s, _ in replies] == [status], "one request, one reply: the body must not run"
    if status == 400:
        assert re.search("body|Transfer-Encoding", replies[0][1]["error"])


def test_an_empty_body_on_get_is_fine(port):
    got = exchange(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n" + PREDICT)
    assert [s for s, _ in got] == [200, 200]  # keep-alive still works


@pytest.mark.parametrize("request_bytes, header", [
    (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.com\r\n\r\n", "Host"),
    (b"GET /health HTTP/1.1\r\nHost: evil.com\r\nHost: 127.0.0.1\r\n\r\n", "Host"),
    (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n" + _body(b'{"text": "hi"}'),
     "Content-Length"),
    (b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n" + _body(b'{"text": "hi"}'),
     "Content-Length"),
])
def test_duplicate_host_or_content_length_gets_400(port, request_bytes, header):
    (status, got), = exchange(port, request_bytes)
    assert status == 400 and header in got["error"]


# ---------------------------------------------------------------- JSON Python cannot parse

@pytest.mark.parametrize("path, body, words", [
    ("/classify", b'{"text": "hi", "top_words": ' + b"9" * 5000 + b"}", "digits"),
    ("/predict", b'{"text": "hi", "n": -' + b"1" * 5000 + b"}", "digits"),
    ("/predict", b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, "nested"),
])
def test_json_python_cannot_parse_gets_400(port, path, body, words):
    (status, got), = exchange(port, f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode() + _body(body))
    assert status == 400 and words in got["error"]
