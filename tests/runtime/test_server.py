"""The loopback endpoint: a real server on a free port, real HTTP requests."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from textsort.frontends.server import MAX_BODY_BYTES, make_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tiny_classifier):
    srv = make_server(tiny_classifier, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def call(url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_health_and_classify(server, tiny_classifier):
    status, health = call(server + "/health")
    assert status == 200 and health["labels"] == tiny_classifier.labels
    status, got = call(server + "/classify", json.dumps({"texts": ["win a free prize now", "see you at lunch"]}).encode())
    assert status == 200 and [r["label"] for r in got["results"]] == ["spam", "ham"]
    assert got["results"][0]["scores"] == pytest.approx(tiny_classifier.predict("win a free prize now").scores, abs=1e-5)


def test_explain_and_language_warning(server):
    status, got = call(server + "/classify", json.dumps({"text": "claim your free prize", "explain": True}).encode())
    assert status == 200 and got["results"][0]["top_words"][0]["text"] in ("free", "prize", "claim")
    _, got = call(server + "/classify", json.dumps({"text": "房间干净整洁，前台服务热情，早餐种类也多。"}).encode())
    assert "English" in got["results"][0]["warning"]
    assert got["results"][0]["uncertain"] is True  # the one uncertain rule, as in the CLI and JSON
    body = json.dumps({"text": "free prize, see you at lunch", "explain": True}).encode()
    words = call(server + "/classify", body)[1]["results"][0]["top_words"]
    assert all({"text", "label", "count", "colour"} <= set(w) for w in words)


@pytest.mark.parametrize("body, status, words", [
    (b"{not json", 400, "JSON"),
    (json.dumps({"texts": "one string"}).encode(), 400, "list of strings"),
    (json.dumps({"nothing": 1}).encode(), 400, "send"),
    (json.dumps([1, 2]).encode(), 400, "object"),
])
def test_bad_requests_get_a_message(server, body, status, words):
    got_status, got = call(server + "/classify", body)
    assert got_status == status and words in got["error"]


def test_oversized_body_and_unknown_path(server):
    status, got = call(server + "/classify", b"x", {"Content-Length": str(MAX_BODY_BYTES + 1)})
    assert status == 413
    assert call(server + "/nope")[0] == 404


def test_only_loopback_addresses(tiny_classifier):
    with pytest.raises(ValueError, match="loopback"):
        make_server(tiny_classifier, "0.0.0.0", 0)
    r = subprocess.run([sys.executable, "-m", "textsort.frontends.cli", "serve", "--host", "0.0.0.0", "--port", "0",
                        "--model", str(tiny_classifier.bundle.path)], capture_output=True, text=True,
                       cwd=REPO, env={"PYTHONPATH": str(REPO / "desktop"), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 2 and "loopback" in r.stderr


def raw_request(url: str, head: str, body: bytes = b"") -> tuple[int, dict]:
    """Send exactly these request bytes (urllib would fix the headers)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    payload = data.split(b"\r\n\r\n", 1)[1]
    return status, json.loads(payload) if payload else {}


@pytest.mark.parametrize("length, status", [("-1", 400), ("abc", 411), (None, 411), ("²", 411), ("-²", 411)])
def test_content_length_must_be_a_non_negative_number(server, length, status):
    # Content-Length: -1 used to read to the end of the stream, past the body limit
    head = "POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += f"Content-Length: {length}\r\n" if length is not None else ""
    got_status, got = raw_request(server, head, b'{"text": "hi"}')
    assert got_status == status and "Content-Length" in got["error"]


@pytest.mark.parametrize("body, words", [
    ({"text": "hi", "explain": True, "top_words": "abc"}, "top_words"),
    ({"text": "hi", "explain": True, "top_words": None}, "top_words"),
    ({"text": "hi", "explain": True, "top_words": 1e999}, "top_words"),
    ({"text": "hi", "explain": True, "top_words": 10**6}, "top_words"),
    ({"text": "hi", "explain": "yes"}, "explain"),
])
def test_bad_field_values_get_400_not_an_empty_reply(server, body, words):
    status, got = call(server + "/classify", json.dumps(body).encode())
    assert status == 400 and words in got["error"]


def test_lone_surrogates_and_deep_nesting_get_400(server):
    status, got = call(server + "/classify", b'{"text": "ok \\ud800 then"}')
    assert status == 400 and "surrogate" in got["error"]
    status, got = call(server + "/classify", b'{"texts": ["a", "\\udfff"]}')
    assert status == 400 and "surrogate" in got["error"]
    status, got = call(server + "/classify", b"[" * 100_000 + b"]" * 100_000)
    assert status == 400 and "nested" in got["error"]


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1", True), ("127.0.0.1:8765", True), ("localhost:1", True), ("LOCALHOST", True), ("[::1]:80", True),
    ("evil.com", False), ("evil.com:8765", False), ("127.0.0.1.evil.com", False), ("localhost:80x", False),
    ("[::1]evil", False), ("", False), ("localhost:²", False), ("localhost:٨٠", False),  # only ASCII port digits
])
def test_host_names_allowed(host, allowed):
    from textsort.frontends.server import host_allowed

    assert host_allowed(host) is allowed


def test_dns_rebinding_and_cors_preflight_are_refused(server):
    port = server.rsplit(":", 1)[1]
    for method, path in (("GET", "/health"), ("POST", "/classify")):
        status, got = raw_request(server, f"{method} {path} HTTP/1.1\r\nHost: evil.com:{port}\r\n"
                                          "Content-Length: 2\r\n", b"{}")
        assert status == 403 and "Host" in got["error"]
    status, _ = raw_request(server, f"GET /health HTTP/1.1\r\nHost: localhost:{port}\r\n")
    assert status == 200
    import socket
    from urllib.parse import urlsplit

    with socket.create_connection((urlsplit(server).hostname, int(port)), timeout=10) as sock:
        sock.sendall(f"OPTIONS /classify HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://evil.com\r\n"
                     "Access-Control-Request-Method: POST\r\n\r\n".encode())
        reply = sock.recv(65536).decode("latin-1")
    assert reply.startswith("HTTP/1.0 405") or reply.startswith("HTTP/1.1 405")
    assert "access-control-allow-origin" not in reply.lower()


def test_predict_route_answers_like_classify_for_one_text(server, tiny_classifier):
    status, got = call(server + "/predict", json.dumps({"text": "win a free prize now"}).encode())
    assert status == 200 and set(got) == {"label", "probability", "scores"}
    expected = tiny_classifier.predict("win a free prize now")
    assert got["label"] == expected.label == "spam" and got["probability"] == pytest.approx(expected.score, abs=1e-5)
    assert call(server + "/predict", json.dumps({"texts": ["a"]}).encode())[0] == 400


def test_openapi_document_describes_the_real_responses(server, tiny_classifier):
    from jsonschema import Draft202012Validator

    status, doc = call(server + "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1") and set(doc["paths"]) == {"/health", "/classify",
                                                                                         "/predict"}

    def check(schema_name, instance):
        Draft202012Validator({"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
                             ).validate(instance)

    check("Health", call(server + "/health")[1])
    body = {"texts": ["claim your free prize", "房间干净整洁"], "explain": True, "top_words": 3}
    check("ClassifyRequest", body)
    check("ClassifyResponse", call(server + "/classify", json.dumps(body).encode())[1])
    check("PredictResponse", call(server + "/predict", json.dumps({"text": "see you at lunch"}).encode())[1])
    check("Error", call(server + "/classify", b"{}")[1])
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):  # the schema can fail: a label the model does not have
        check("PredictResponse", {"label": "eggs", "probability": 0.5, "scores": {"ham": 0.5, "spam": 0.5}})


def test_explaining_too_much_text_is_refused_before_the_model_runs(server):
    status, got = call(server + "/classify", json.dumps({"text": "free prize " * 5000, "explain": True}).encode())
    assert status == 413 and "explain" in got["error"]
    assert call(server + "/classify", json.dumps({"text": "free prize " * 5000}).encode())[0] == 200


def _health_soon(port: int) -> int:
    """GET /health, retried for up to 2 s (a freed slot is released by the server's thread)."""
    import time

    for _ in range(40):
        status = call(f"http://127.0.0.1:{port}/health")[0]
        if status == 200:
            return status
        time.sleep(0.05)
    return status


def _limited_server(clf, **limits):
    from textsort.frontends.server import ServerLimits

    srv = make_server(clf, "127.0.0.1", 0, ServerLimits(**limits))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_a_full_server_answers_503_and_idle_connections_are_closed(tiny_classifier):
    import socket
    import time

    srv = _limited_server(tiny_classifier, max_connections=2, timeout_s=0.5)
    port = srv.server_address[1]
    try:
        held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
        time.sleep(0.1)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5)
        extra.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = extra.recv(4096)
        assert reply.startswith(b"HTTP/1.1 503") and b"Retry-After" in reply and b"busy" in reply
        for s in held:  # idle past the timeout: the server hangs up, and the slots are free again
            assert s.recv(4096) == b""
        assert _health_soon(port) == 200
    finally:
        srv.shutdown()
        srv.server_close()


def test_a_body_that_never_arrives_frees_its_connection(tiny_classifier):
    import socket

    srv = _limited_server(tiny_classifier, max_connections=1, timeout_s=0.5)
    port = srv.server_address[1]
    try:
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(b"POST /classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"te")
        assert slow.recv(4096) == b""  # closed after the timeout, no reply owed
        assert _health_soon(port) == 200
    finally:
        srv.shutdown()
        srv.server_close()
