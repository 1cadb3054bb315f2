"""A local HTTP endpoint for edge devices: the same engine behind JSON, loopback only.

    textsort serve [--model BUNDLE] [--port 8765]

    GET  /health        -> {"ok": true, "model": name, "labels": [...], "language": ...}
    GET  /openapi.json  -> the API as an OpenAPI 3.1 document (textsort.openapi)
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
fields (including lone surrogates and nesting deeper than Python can parse) get 400 with
a message, unknown paths 404, anything unexpected 500 with a message, never an empty
reply.

Load: at most `ServerLimits.max_connections` connections are served at once (one thread
each); past that a connection gets 503 with Retry-After at once instead of waiting
unseen. The listen backlog is 1024. A connection idle or sending its body slower than
`timeout_s` is closed. Explanations cost a model call per word, so a request may
explain at most `max_explain_chars` characters. Standard library only (http.server):
bench/server_load.py measures it.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from textsort.encoding import SURROGATE
from textsort.colours import label_colours
from textsort.engine import Classifier, Prediction
from textsort.language import language_warning
from textsort.uncertain import is_uncertain

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_TEXTS = 1000
MAX_TOP_WORDS = 50
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int = 256       # served at once (a thread each); more get 503 at once
    timeout_s: float = 10.0          # idle keep-alive or a body that trickles in: closed
    max_explain_chars: int = 20_000  # characters one request may explain
    backlog: int = 1024


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


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


def make_handler(clf: Classifier, limits: ServerLimits = ServerLimits()):
    from textsort.openapi import openapi_document

    lock = threading.Lock()
    health = {"ok": True, "model": clf.bundle.name, "labels": clf.labels,
              "language": clf.bundle.manifest.get("language")}
    openapi = openapi_document(clf.labels)  # the labels never change: built once
    routes = {"/classify": lambda body: classify_request(clf, body, lock, limits),
              "/predict": lambda body: predict_request(clf, body, lock)}

    class Handler(BaseHTTPRequestHandler):
        server_version = "textsort"
        protocol_version = "HTTP/1.1"  # keep-alive; every reply has a Content-Length
        timeout = limits.timeout_s     # socket timeout: idle and trickling connections end

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

        def _host_refused(self) -> bool:
            if host_allowed(self.headers.get("Host")):
                return False
            self.close_connection = True
            self._send(403, {"error": "Host not allowed: this endpoint answers only loopback names "
                                      "(127.0.0.1, localhost, [::1])"})
            return True

        def do_OPTIONS(self):  # noqa: N802  (CORS pre-flight: no cross-origin access, ever)
            self.close_connection = True
            self._send(405, {"error": "cross-origin requests are not allowed"}, {"Allow": "GET, POST"})

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self._host_refused():
                return
            path = self.path.split("?")[0]
            if path == "/health":
                self._send(200, health)
            elif path == "/openapi.json":
                self._send(200, openapi)
            else:
                self._send(404, {"error": "not found: use GET /health, GET /openapi.json, POST /classify "
                                          "or POST /predict"})

        def do_POST(self):  # noqa: N802
            if self._host_refused():
                return
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
                data = self.rfile.read(length)
                if len(data) < length:
                    raise RequestError(400, "the body is shorter than its Content-Length")
                try:
                    body = json.loads(data.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise RequestError(400, f"body is not UTF-8 JSON: {e}") from None
                except RecursionError:
                    raise RequestError(400, "body is nested too deeply") from None
                self._send(200, route(body))
            except (TimeoutError, ConnectionError):
                self.close_connection = True  # a body that never came: nobody to answer
            except RequestError as e:
                if e.status in (400, 411, 413):
                    self.close_connection = True  # an unread body must not be parsed as a request
                self._send(e.status, {"error": str(e)})
            except Exception as e:  # never an empty reply
                self.close_connection = True
                self._send(500, {"error": f"internal error: {type(e).__name__}"})

        def log_message(self, fmt, *args):  # quiet by default; the CLI prints one line at start
            pass

    return Handler


_BUSY_BODY = b'{"error": "busy: too many connections at once; retry soon"}'
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Retry-After: 1\r\nConnection: close\r\nContent-Length: " + str(len(_BUSY_BODY)).encode()
        + b"\r\n\r\n" + _BUSY_BODY)


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
