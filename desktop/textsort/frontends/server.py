"""A local HTTP endpoint for edge devices: the same engine behind JSON, loopback only.

    textsort serve [--model BUNDLE] [--port 8765]

    GET  /health        -> {"ok": true, "model": name, "labels": [...], "language": ...}
    GET  /openapi.json  -> the API as an OpenAPI 3.1 document (textsort.frontends.openapi)
    POST /classify      {"text": "..."} or {"texts": ["...", ...]}, optional "explain": true
                        -> {"results": [{"label", "confidence", "uncertain", "scores", "windows",
                                         "warning", "top_words"?}, ...]}
    POST /predict       {"text": "..."} -> {"label", "probability", "scores"} (the route name
                        of Flask model-serving examples)

Bound to a loopback address only (127.0.0.0/8 or ::1): nothing on the network can reach
it. A request whose Host header is not a loopback name (127.0.0.1, localhost, [::1], with
or without the port) gets 403, so a web page cannot reach it through DNS rebinding; no
response carries Access-Control-Allow-Origin, and a CORS pre-flight (OPTIONS) gets 405,
so browsers keep other sites' scripts out. Bodies over MAX_BODY_BYTES are refused (413),
a missing or non-numeric Content-Length gets 411 and a negative one 400; bad JSON or
fields (including lone surrogates, numbers over Python's 4,300 digits and nesting deeper
than Python can parse) get 400 with a message, unknown paths 404, anything unexpected 500
with a message, never an empty reply.

Framing (no body may be read as the next request): two Host or two Content-Length
headers, any Transfer-Encoding (bodies need a Content-Length), or a body on a request
other than POST get 400, and every error reply closes the connection, so a body left
unread is never parsed as a request.

Load: at most `ServerLimits.max_connections` connections are served at once (one thread
each); past that a connection gets 503 with Retry-After at once instead of waiting
unseen. The listen backlog is 1024. A connection idle (no byte) for `timeout_s` is closed,
and a request (headers and body) not whole within `request_deadline_s` of its first byte
gets 408 and is closed, so clients that trickle a byte at a time cannot hold the slots
(a slot is freed when its connection's thread ends). Explanations cost a model call per
word, so a request may explain at most `max_explain_chars` characters. Standard library
only (http.server): bench/server_load.py measures it.
"""
from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import socket
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from textsort.core.encoding import SURROGATE
from textsort.core.engine import Classifier, Prediction
from textsort.core.language import language_warning
from textsort.core.uncertain import is_uncertain
from textsort.frontends.openapi import MAX_BODY_BYTES, MAX_TEXTS, MAX_TOP_WORDS, openapi_document  # the API's limits
from textsort.presentation.colours import label_colours

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int = 256       # served at once (a thread each); more get 503 at once
    timeout_s: float = 10.0          # no byte for this long (idle keep-alive, a stalled body): closed
    request_deadline_s: float = 10.0  # a whole request (headers + body) from its first byte: else 408
    max_explain_chars: int = 20_000  # characters one request may explain
    backlog: int = 1024


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class RequestLate(Exception):
    """The request was not whole within `ServerLimits.request_deadline_s` of its first byte."""


class DeadlineReader(io.RawIOBase):
    """A socket's bytes on two clocks: each wait at most `idle_s`, and a whole request at most
    `deadline_s` from its first byte (`start()` before each request). A per-wait timeout alone
    lets a byte every few seconds hold a connection, and its slot, for ever."""

    def __init__(self, sock: socket.socket, idle_s: float, deadline_s: float):
        self.sock, self.idle_s, self.deadline_s = sock, idle_s, deadline_s
        self.until: float | None = None

    def start(self) -> None:
        self.until = None  # the clock starts with the next request's first byte

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        wait = self.idle_s if self.until is None else min(self.idle_s, self.until - time.monotonic())
        if wait <= 0:
            raise RequestLate
        self.sock.settimeout(wait)
        try:
            n = self.sock.recv_into(buf)
        except TimeoutError:
            if wait < self.idle_s:
                raise RequestLate from None
            raise
        finally:
            self.sock.settimeout(self.idle_s)  # replies are written with the usual timeout
        if n and self.until is None:
            self.until = time.monotonic() + self.deadline_s
        return n


def _result(p: Prediction, text: str, language, explanation=None) -> dict:
    warning = language_warning(text, language)
    d = {
        "label": p.label,
        "confidence": round(p.score, 6),
        "uncertain": is_uncertain(p, warning),
        "scores": {k: round(v, 6) for k, v in p.scores.items()},
        "windows": p.windows,
        "warning": warning or None,
    }
    if explanation is not None:
        colours = label_colours(p.scores)
        d["top_words"] = [w.to_dict(colours) for w in explanation.deciding]
    return d


def _texts_of(body) -> list[str]:
    if not isinstance(body, dict):
        raise RequestError(400, "the body must be a JSON object")
    if "texts" in body:
        texts = body["texts"]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise RequestError(400, '"texts" must be a list of strings')
        if len(texts) > MAX_TEXTS:
            raise RequestError(400, f"at most {MAX_TEXTS} texts per request")
    elif isinstance(body.get("text"), str):
        texts = [body["text"]]
    else:
        raise RequestError(400, 'send {"text": "..."} or {"texts": ["...", ...]}')
    if any(SURROGATE.search(t) for t in texts):
        raise RequestError(400, "a text contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text")
    return texts


def _predictions(clf: Classifier, texts: list[str], lock: threading.Lock, explain: bool = False,
                 top_words: int = 5) -> tuple[list[Prediction], list]:
    with lock:  # one LiteRT interpreter: one model call at a time
        if explain:
            exps = [clf.explain(t, top_n=top_words) for t in texts]
            preds = [e.prediction for e in exps]
        else:
            exps, preds = [None] * len(texts), clf.predict_batch(texts)
    if not all(p.finite for p in preds):  # bare NaN is not JSON, and no label could be trusted
        raise RequestError(500, "the model gave no usable score (NaN or infinity): the model may be damaged")
    return preds, exps


def classify_request(clf: Classifier, body: dict, lock: threading.Lock,
                     limits: ServerLimits = ServerLimits()) -> dict:
    """The /classify logic, free of HTTP: validates `body`, returns the response dict."""
    texts = _texts_of(body)
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        raise RequestError(400, '"explain" must be true or false')
    top_words = body.get("top_words", 5)
    if isinstance(top_words, bool) or not isinstance(top_words, int) or not 1 <= top_words <= MAX_TOP_WORDS:
        raise RequestError(400, f'"top_words" must be a whole number from 1 to {MAX_TOP_WORDS}')
    if explain and sum(map(len, texts)) > limits.max_explain_chars:
        raise RequestError(413, f"explain is limited to {limits.max_explain_chars} characters per request "
                                "(each word costs a model call); send shorter texts or leave out \"explain\"")
    preds, exps = _predictions(clf, texts, lock, explain, top_words)
    language = clf.bundle.manifest.get("language")
    return {"model": clf.bundle.name,
            "results": [_result(p, t, language, e) for p, t, e in zip(preds, texts, exps)]}


def predict_request(clf: Classifier, body: dict, lock: threading.Lock) -> dict:
    """POST /predict: one text -> label, its probability, all scores."""
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        raise RequestError(400, 'send {"text": "..."}')
    (p,), _ = _predictions(clf, _texts_of({"text": body["text"]}), lock)
    return {"label": p.label, "probability": round(p.score, 6),
            "scores": {k: round(v, 6) for k, v in p.scores.items()}}


def is_number(s: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes "²" and other scripts' digits."""
    return s.isascii() and s.isdigit()


def host_allowed(host: str | None) -> bool:
    """A missing Host (HTTP/1.0) or a loopback name, with or without a numeric port."""
    if host is None:
        return True
    host = host.strip().lower()
    if host.startswith("["):  # [::1] or [::1]:8765
        name = host[: host.find("]") + 1]
        rest = host[len(name):]
    else:
        name, colon, port = host.partition(":")
        rest = colon + port
    if rest and not (rest.startswith(":") and is_number(rest[1:])):
        return False
    return name in LOOPBACK_HOSTS


def parse_json(data: bytes):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(400, f"body is not UTF-8 JSON: {e}") from None
    except RecursionError:
        raise RequestError(400, "body is nested too deeply") from None
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        raise RequestError(400, f"body has a number over {sys.get_int_max_str_digits()} digits") from None


def request_problem(method: str, headers) -> tuple[int, str] | None:
    """Why a request is refused before its method runs: a Host that is not a loopback name, or
    a length that is ambiguous (a body that could be read as a second request)."""
    for name in ("Host", "Content-Length"):
        if len(headers.get_all(name, ())) > 1:
            return 400, f"more than one {name} header"
    if not host_allowed(headers.get("Host")):
        return 403, "Host not allowed: this endpoint answers only loopback names (127.0.0.1, localhost, [::1])"
    if "Transfer-Encoding" in headers:
        return 400, "Transfer-Encoding is not supported: send the body with a Content-Length"
    if method != "POST" and headers.get("Content-Length", "0").strip() != "0":
        return 400, f"a {method} request takes no body"
    return None


def make_handler(clf: Classifier, limits: ServerLimits = ServerLimits()):

    lock = threading.Lock()
    health = {"ok": True, "model": clf.bundle.name, "labels": clf.labels,
              "language": clf.bundle.manifest.get("language")}
    openapi = openapi_document(clf.labels)  # the labels never change: built once
    routes = {"/classify": lambda body: classify_request(clf, body, lock, limits),
              "/predict": lambda body: predict_request(clf, body, lock)}
    late = f"the request did not arrive whole within {limits.request_deadline_s:g} s"

    class Handler(BaseHTTPRequestHandler):
        server_version = "textsort"
        protocol_version = "HTTP/1.1"  # keep-alive; every reply has a Content-Length
        timeout = limits.timeout_s     # socket timeout: idle and stalled connections end

        def setup(self):
            super().setup()
            self.rfile.close()  # reads go through the deadline instead
            self._reader = DeadlineReader(self.connection, limits.timeout_s, limits.request_deadline_s)
            self.rfile = io.BufferedReader(self._reader)

        def handle_one_request(self):
            self._reader.start()
            try:
                super().handle_one_request()
            except RequestLate:  # still in the request line or headers
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.wfile.write(canned("408 Request Timeout", late))

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            problem = request_problem(self.command, self.headers)
            if problem:
                self.close_connection = True
                self._send(problem[0], {"error": problem[1]})
            return problem is None

        def _send(self, status: int, payload: dict, headers: dict | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        def do_OPTIONS(self):  # noqa: N802  (CORS pre-flight: no cross-origin access, ever)
            self.close_connection = True
            self._send(405, {"error": "cross-origin requests are not allowed"}, {"Allow": "GET, POST"})

        def do_GET(self):  # noqa: N802 (http.server's naming)
            path = self.path.split("?")[0]
            if path == "/health":
                self._send(200, health)
            elif path == "/openapi.json":
                self._send(200, openapi)
            else:
                self._send(404, {"error": "not found: use GET /health, GET /openapi.json, POST /classify "
                                          "or POST /predict"})

        def do_POST(self):  # noqa: N802
            try:
                route = routes.get(self.path.split("?")[0])
                if route is None:
                    raise RequestError(404, "not found: use POST /classify or POST /predict")
                raw = self.headers.get("Content-Length", "").strip()
                if not is_number(raw):
                    if raw.startswith("-") and is_number(raw[1:]):
                        raise RequestError(400, "Content-Length must not be negative")
                    raise RequestError(411, "a numeric Content-Length header is required")
                length = int(raw)
                if length > MAX_BODY_BYTES:
                    raise RequestError(413, f"body over {MAX_BODY_BYTES} bytes")
                try:
                    data = self.rfile.read(length)
                except RequestLate:
                    raise RequestError(408, late) from None
                if len(data) < length:
                    raise RequestError(400, "the body is shorter than its Content-Length")
                self._send(200, route(parse_json(data)))
            except (TimeoutError, ConnectionError):
                self.close_connection = True  # a body that never came: nobody to answer
            except RequestError as e:
                self.close_connection = True  # a body left unread must not be parsed as a request
                self._send(e.status, {"error": str(e)})
            except Exception as e:  # never an empty reply
                self.close_connection = True
                self._send(500, {"error": f"internal error: {type(e).__name__}"})

        def log_message(self, fmt, *args):  # quiet by default; the CLI prints one line at start
            pass

    return Handler


def canned(status: str, message: str, extra: str = "") -> bytes:
    """A whole closing reply, for when no request was parsed (there is no handler state to use)."""
    body = json.dumps({"error": message}).encode()
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\n{extra}"
            f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


BUSY = canned("503 Service Unavailable", "busy: too many connections at once; retry soon", "Retry-After: 1\r\n")


class LoopbackServer(ThreadingHTTPServer):
    """A thread per connection, at most `limits.max_connections` at once (503 past that)."""

    daemon_threads = True

    def __init__(self, address, handler, limits: ServerLimits):
        self.request_queue_size = limits.backlog
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)  # starts the thread
        except BaseException:
            self._slots.release()
            raise

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client that hung up or stalled: nothing to report
        super().handle_error(request, client_address)

    def finish_request(self, request, client_address):
        try:
            super().finish_request(request, client_address)
        finally:
            self._slots.release()  # before ThreadingMixIn closes it: a client that sees the close may reconnect


class LoopbackServerV6(LoopbackServer):
    address_family = socket.AF_INET6


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(clf: Classifier, host: str = "127.0.0.1", port: int = 8765,
                limits: ServerLimits = ServerLimits()) -> LoopbackServer:
    if not is_loopback(host):
        raise ValueError(f"{host}: textsort serve listens on a loopback address only (127.0.0.1, ::1)")
    cls = LoopbackServerV6 if ":" in host else LoopbackServer
    return cls((host, port), make_handler(clf, limits), limits)
