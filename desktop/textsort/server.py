"""A local HTTP endpoint for edge devices: the same engine behind JSON, loopback only.

    textsort serve [--model BUNDLE] [--port 8765]

    GET  /health    -> {"ok": true, "model": name, "labels": [...], "language": ...}
    POST /classify  {"text": "..."} or {"texts": ["...", ...]}, optional "explain": true
                    -> {"results": [{"label", "confidence", "uncertain", "scores", "windows",
                                     "warning", "top_words"?}, ...]}

Bound to a loopback address only (127.0.0.0/8 or ::1): nothing on the network can reach
it. Bodies over MAX_BODY_BYTES are refused (413), bad JSON or fields get 400 with a
message, unknown paths 404. Standard library only (http.server).
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
    language = clf.bundle.manifest.get("language")
    with lock:  # one LiteRT interpreter: one request at a time
        if body.get("explain"):
            exps = [clf.explain(t, top_n=int(body.get("top_words", 5))) for t in texts]
            results = [_result(e.prediction, t, language, e) for e, t in zip(exps, texts)]
        else:
            results = [_result(p, t, language) for p, t in zip(clf.predict_batch(texts), texts)]
    return {"model": clf.bundle.name, "results": results}


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

        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] == "/health":
                self._send(200, health)
            else:
                self._send(404, {"error": "not found: use GET /health or POST /classify"})

        def do_POST(self):  # noqa: N802
            try:
                if self.path.split("?")[0] != "/classify":
                    raise RequestError(404, "not found: use POST /classify")
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    raise RequestError(411, "a Content-Length header is required") from None
                if length > MAX_BODY_BYTES:
                    raise RequestError(413, f"body over {MAX_BODY_BYTES} bytes")
                try:
                    body = json.loads(self.rfile.read(length).decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise RequestError(400, f"body is not UTF-8 JSON: {e}") from None
                self._send(200, classify_request(clf, body, lock))
            except RequestError as e:
                if e.status in (411, 413):
                    self.close_connection = True  # the unread body must not be parsed as a request
                self._send(e.status, {"error": str(e)})

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
