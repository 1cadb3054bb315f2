"""A local HTTP endpoint for edge devices: the same engine behind JSON, loopback only.

    textsort serve [--model BUNDLE] [--port 8765]

    GET  /health    -> {"ok": true, "model": name, "labels": [...], "language": ...}
    POST /classify  {"text": "..."} or {"texts": ["...", ...]}, optional "explain": true
                    -> {"results": [{"label", "confidence", "uncertain", "scores", "windows",
                                     "warning", "top_words"?}, ...]}

Bound to a loopback address only (127.0.0.0/8 or ::1): nothing on the network can reach
it. A request whose Host header is not a loopback name (127.0.0.1, localhost, [::1], with
or without the port) gets 403, so a web page cannot reach it through DNS rebinding; no
response carries Access-Control-Allow-Origin, and a CORS pre-flight (OPTIONS) gets 405,
so browsers keep other sites' scripts out. Bodies over MAX_BODY_BYTES are refused (413),
a missing or non-numeric Content-Length gets 411 and a negative one 400; bad JSON or
fields (including lone surrogates and nesting deeper than Python can parse) get 400 with
a message, unknown paths 404, anything unexpected 500 with a message, never an empty
reply. Standard library only (http.server).
"""
from __future__ import annotations

import ipaddress
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from textsort.engine import Classifier, Prediction
from textsort.language import language_warning

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_TEXTS = 1000
MAX_TOP_WORDS = 50
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class RequestError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _result(p: Prediction, text: str, language, explanation=None) -> dict:
    d = {
        "label": p.label,
        "confidence": round(p.score, 6),
        "uncertain": p.uncertain,
        "scores": {k: round(v, 6) for k, v in p.scores.items()},
        "windows": p.windows,
        "warning": language_warning(text, language) or None,
    }
    if explanation is not None:
        d["top_words"] = [{"text": w.text, "start": w.start, "end": w.end, "score": round(w.score, 6)}
                          for w in explanation.words]
    return d


def classify_request(clf: Classifier, body: dict, lock: threading.Lock) -> dict:
    """The /classify logic, free of HTTP: validates `body`, returns the response dict."""
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
    if any(_has_surrogate(t) for t in texts):
        raise RequestError(400, "a text contains a lone surrogate (\\ud800-\\udfff), which is not Unicode text")
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        raise RequestError(400, '"explain" must be true or false')
    top_words = body.get("top_words", 5)
    if isinstance(top_words, bool) or not isinstance(top_words, int) or not 1 <= top_words <= MAX_TOP_WORDS:
        raise RequestError(400, f'"top_words" must be a whole number from 1 to {MAX_TOP_WORDS}')
    language = clf.bundle.manifest.get("language")
    with lock:  # one LiteRT interpreter: one request at a time
        if explain:
            exps = [clf.explain(t, top_n=top_words) for t in texts]
            preds = [e.prediction for e in exps]
        else:
            exps, preds = [None] * len(texts), clf.predict_batch(texts)
    if not all(p.finite for p in preds):  # bare NaN is not JSON, and no label could be trusted
        raise RequestError(500, "the model gave no usable score (NaN or infinity): the model may be damaged")
    results = [_result(p, t, language, e) for p, t, e in zip(preds, texts, exps)]
    return {"model": clf.bundle.name, "results": results}


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


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
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return False
    return name in LOOPBACK_HOSTS


def make_handler(clf: Classifier):
    lock = threading.Lock()
    health = {"ok": True, "model": clf.bundle.name, "labels": clf.labels,
              "language": clf.bundle.manifest.get("language")}

    class Handler(BaseHTTPRequestHandler):
        server_version = "textsort"

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _host_refused(self) -> bool:
            if host_allowed(self.headers.get("Host")):
                return False
            self._send(403, {"error": "Host not allowed: this endpoint answers only loopback names "
                                      "(127.0.0.1, localhost, [::1])"})
            return True

        def do_OPTIONS(self):  # noqa: N802  (CORS pre-flight: no cross-origin access, ever)
            self.close_connection = True
            data = json.dumps({"error": "cross-origin requests are not allowed"}).encode("utf-8")
            self.send_response(405)
            self.send_header("Allow", "GET, POST")
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self._host_refused():
                return
            if self.path.split("?")[0] == "/health":
                self._send(200, health)
            else:
                self._send(404, {"error": "not found: use GET /health or POST /classify"})

        def do_POST(self):  # noqa: N802
            if self._host_refused():
                self.close_connection = True
                return
            try:
                if self.path.split("?")[0] != "/classify":
                    raise RequestError(404, "not found: use POST /classify")
                raw = self.headers.get("Content-Length", "")
                if not raw.strip().isdigit():
                    if raw.strip().startswith("-") and raw.strip()[1:].isdigit():
                        raise RequestError(400, "Content-Length must not be negative")
                    raise RequestError(411, "a numeric Content-Length header is required")
                length = int(raw)
                if length > MAX_BODY_BYTES:
                    raise RequestError(413, f"body over {MAX_BODY_BYTES} bytes")
                try:
                    body = json.loads(self.rfile.read(length).decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise RequestError(400, f"body is not UTF-8 JSON: {e}") from None
                except RecursionError:
                    raise RequestError(400, "body is nested too deeply") from None
                self._send(200, classify_request(clf, body, lock))
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


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(clf: Classifier, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    if not is_loopback(host):
        raise ValueError(f"{host}: textsort serve listens on a loopback address only (127.0.0.1, ::1)")
    cls = ThreadingHTTPServer
    if ":" in host:
        import socket

        cls = type("ThreadingHTTPServerV6", (ThreadingHTTPServer,), {"address_family": socket.AF_INET6})
    return cls((host, port), make_handler(clf))
