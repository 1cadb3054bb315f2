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

from textsort.server import MAX_BODY_BYTES, make_server

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
    r = subprocess.run([sys.executable, "-m", "textsort.cli", "serve", "--host", "0.0.0.0", "--port", "0",
                        "--model", str(tiny_classifier.bundle.path)], capture_output=True, text=True,
                       cwd=REPO, env={"PYTHONPATH": str(REPO / "desktop"), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 2 and "loopback" in r.stderr
