"""The benchmark's Web Push service: tests/support/push_service.PushService (it checks VAPID, RFC 8292, and
decrypts every message with the subscriber's keys, RFC 8291, as a browser vendor's service and the browser
would) in a process of its own, so its CPU is measured apart from the server's, the worker's and the client's.

    .venv/bin/python bench/push_sink.py --subscribers 100 --out /tmp/subs.json

Makes N subscribers (a browser's keys each) and writes {"origin", "subscriptions": [{"endpoint", "p256dh",
"auth"}]} to --out (roomcast_setup.py stores them as PushSubscription rows), then prints one line, "ready
<origin>", and serves until SIGTERM or SIGINT, when it prints its totals as one JSON line and exits.
GET <origin>/stats answers the totals so far (run.py reads them around each measured window):
{"deliveries", "failures", "refused", "failure_samples"}.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.push_service import PushService, _Handler  # noqa: E402


def totals(service: PushService) -> dict:
    failures = service.failures
    return {
        "deliveries": len(service.deliveries),
        "failures": len(failures),
        "refused": len(service.refused),
        "failure_samples": failures[:5],
    }


class Handler(_Handler):
    def do_GET(self) -> None:
        if self.path != "/stats":
            self.send_error(404)
            return
        body = json.dumps(totals(self.server.service)).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    service = PushService()
    service._server.RequestHandlerClass = Handler  # the same checks, plus GET /stats
    service._server.daemon_threads = True
    subscribers = [service.subscriber() for _ in range(args.subscribers)]
    args.out.write_text(
        json.dumps(
            {
                "origin": service.origin,
                "subscriptions": [{"endpoint": s.endpoint, "p256dh": s.p256dh, "auth": s.auth} for s in subscribers],
            }
        )
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service.start()
    print(f"ready {service.origin}", flush=True)
    while not stop.wait(0.5):
        pass
    service.stop()
    print(json.dumps(totals(service)), flush=True)


if __name__ == "__main__":
    main()
