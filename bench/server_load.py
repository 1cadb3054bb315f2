"""Load on the loopback endpoint: concurrent clients, held-open connections. Loopback only,
bounded in count and time; it starts its own server and stops it.

    python bench/server_load.py [BUNDLE] [--clients 200] [--rounds 3] [--held 1000]

Per round, `--clients` threads each open a connection and POST one short text to
/classify at the same moment; the table gives answered (200), busy (503), failed, and
latency p50/p99. Then `--held` idle connections are opened at once: how many were
refused with 503, the server's thread count, and how many were closed by the idle
timeout. Targets (issue 10): 200 concurrent clients 100 % answered, p99 <= 1 s for short
texts; a bounded pool (503 when full); idle connections closed.
"""
from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "desktop"))

TEXTS = ["win a free prize now, call today", "see you at lunch tomorrow", "urgent: claim your cash",
         "thanks mom, home soon"]


def one_request(port: int, text: str, start: threading.Event, out: list) -> None:
    start.wait()
    t0 = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/classify", json.dumps({"text": text}), {"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
    except OSError as e:
        status = type(e).__name__
    out.append((status, time.perf_counter() - t0))


def burst(port: int, clients: int) -> dict:
    start, out = threading.Event(), []
    threads = [threading.Thread(target=one_request, args=(port, TEXTS[i % len(TEXTS)], start, out))
               for i in range(clients)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(60)
    lat = sorted(d for s, d in out if s == 200)
    q = statistics.quantiles(lat, n=100) if len(lat) >= 2 else [float("nan")] * 99
    return {"answered": sum(s == 200 for s, _ in out), "busy": sum(s == 503 for s, _ in out),
            "failed": sum(s not in (200, 503) for s, _ in out), "p50_s": q[49], "p99_s": q[98]}


def _closed(s: socket.socket) -> bool:
    """True when the server has hung up (end of stream), False when it still holds it open."""
    s.settimeout(0.2)
    try:
        while s.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def held(port: int, n: int, timeout_s: float) -> dict:
    socks, refused = [], 0
    for _ in range(n):
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            refused += 1
    time.sleep(0.5)
    threads_open = threading.active_count()
    busy = 0
    for s in socks:  # the server answered 503 to those past its limit and closed them
        s.settimeout(0.01)
        try:
            busy += s.recv(16).startswith(b"HTTP/1.1 503")
        except OSError:
            pass
    time.sleep(timeout_s + 1.0)
    closed = sum(_closed(s) for s in socks)
    for s in socks:
        s.close()
    return {"opened": len(socks), "connect_refused": refused, "answered_503": busy,
            "server_threads": threads_open, "closed_by_server": closed}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("bundle", nargs="?", default=str(REPO / "assets" / "models" / "sms_spam-en.textsort"))
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--held", type=int, default=1000)
    args = p.parse_args()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.held + 256)), hard))
    from textsort.core.engine import Classifier
    from textsort.frontends.server import ServerLimits, make_server

    limits = ServerLimits()
    srv = make_server(Classifier(args.bundle), "127.0.0.1", 0, limits)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]
    try:
        print("| round | clients | answered | busy (503) | failed | p50 s | p99 s |")
        print("|---|---|---|---|---|---|---|")
        for r in range(args.rounds):
            b = burst(port, args.clients)
            print(f"| {r + 1} | {args.clients} | {b['answered']} | {b['busy']} | {b['failed']} | "
                  f"{b['p50_s']:.3f} | {b['p99_s']:.3f} |", flush=True)
        h = held(port, args.held, limits.timeout_s)
        print(f"\nheld-open connections: {h} (limit {limits.max_connections}, idle timeout {limits.timeout_s} s)")
    finally:
        srv.shutdown()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
