"""The load client: one asyncio process holding every member's socket.

Reads a JSON config (path as the only argument), connects all sockets, then per rate sends at a constant
arrival rate from a few sender sockets for `duration` seconds, waits for the fan-out to drain, and counts
deliveries per (message, member). Writes JSON lines to stdout: "connected", then per rate "send_start" and
"done" (with the figures), so the parent can read server CPU over exactly the measured window.

Each message body carries a marker `bm.<run>.<seq>.<intended send time, monotonic ns>.`; latency is the
receive time minus the *intended* send time, so a client that falls behind its schedule shows up as latency
(and as `send_lag_ms`) instead of hiding it. time.monotonic_ns is the machine-wide CLOCK_MONOTONIC.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
import uuid

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

MARKER = re.compile(r"bm\.(\d+)\.(\d+)\.(\d+)\.")


def emit(event: str, **data) -> None:
    sys.stdout.write(json.dumps({"event": event, **data}) + "\n")
    sys.stdout.flush()


def percentile(sorted_values: list[int], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] / 1e6


class Run:
    """Delivery book-keeping for one rate."""

    def __init__(self, run_id: int, messages: int, members: int) -> None:
        self.id = run_id
        self.messages = messages
        self.members = members
        self.expected = messages * members
        self.seen = bytearray(messages * members)
        self.delivered = 0
        self.duplicates = 0
        self.latencies: list[int] = []
        self.complete = asyncio.Event()


class Client:
    def __init__(self, config: dict) -> None:
        self.cfg = config
        self.system = config["system"]
        self.sockets: list = []
        self.run: Run | None = None
        self.stale = 0  # marker frames of an earlier rate arriving late
        self.errors = 0  # Roomcast error status frames (a refused send)
        self.other_frames = 0
        self.closed: dict[str, int] = {}

    # ---- connections -----------------------------------------------------------------------------------

    async def open_all(self) -> None:
        cfg = self.cfg
        gate = asyncio.Semaphore(cfg.get("connect_concurrency", 50))
        failures: dict[str, int] = {}

        async def one(index: int, spec: dict):
            async with gate:
                try:
                    return await connect(
                        spec["url"],
                        additional_headers=spec.get("headers") or None,
                        origin=cfg["origin"],
                        compression=None,  # daphne does not negotiate permessage-deflate
                        max_size=None,
                        open_timeout=cfg.get("connect_timeout", 60),
                        ping_interval=None,
                        close_timeout=1,
                    )
                except Exception as error:  # counted and reported, the run goes on with the rest
                    name = type(error).__name__
                    failures[name] = failures.get(name, 0) + 1
                    return None

        started = time.monotonic()
        results = await asyncio.gather(*(one(i, s) for i, s in enumerate(cfg["sockets"])))
        self.sockets = list(results)
        self.readers = [asyncio.create_task(self.read(i, ws)) for i, ws in enumerate(self.sockets) if ws is not None]
        connect_seconds = time.monotonic() - started
        await asyncio.sleep(cfg.get("settle", 2.0))  # presence frames after a burst of joins, then quiet
        emit(
            "connected",
            requested=len(cfg["sockets"]),
            open=self.open_count(),
            failures=failures,
            closed=self.closed,
            connect_seconds=round(connect_seconds, 2),
        )

    def open_count(self) -> int:
        return sum(1 for ws in self.sockets if ws is not None and ws.state.name == "OPEN")

    async def read(self, index: int, ws) -> None:
        try:
            async for text in ws:
                now = time.monotonic_ns()
                if isinstance(text, bytes):
                    text = text.decode(errors="replace")
                if "bm." not in text:
                    if 'data-ok="0"' in text:
                        self.errors += 1
                    self.other_frames += 1
                    continue
                for match in MARKER.finditer(text):
                    self.record(index, int(match[1]), int(match[2]), now - int(match[3]))
        except ConnectionClosed as closed:
            code = str(closed.rcvd.code if closed.rcvd else "no-close-frame")
            self.closed[code] = self.closed.get(code, 0) + 1

    def record(self, member: int, run_id: int, seq: int, latency: int) -> None:
        run = self.run
        if run is None or run_id != run.id or seq >= run.messages:
            self.stale += 1
            return
        slot = seq * run.members + member
        if run.seen[slot]:
            run.duplicates += 1
            return
        run.seen[slot] = 1
        run.delivered += 1
        run.latencies.append(latency)
        if run.delivered == run.expected:
            run.complete.set()

    # ---- one rate ----------------------------------------------------------------------------------------

    def frame(self, marker: str) -> str:
        if self.system == "roomcast":
            return json.dumps({"body": marker, "client_id": str(uuid.uuid4())})
        if self.system == "peer":
            return json.dumps({"message": marker})
        return marker

    async def measure(self, run_id: int, rate: float, duration: float | None = None, event: str = "done") -> Run:
        cfg = self.cfg
        members = len(self.sockets)
        senders = [ws for ws in self.sockets[: cfg["senders"]] if ws is not None]
        messages = max(1, int(rate * (duration or cfg["duration"])))
        run = self.run = Run(run_id, messages, members)
        self.errors = 0
        stale_before, other_before = self.stale, self.other_frames
        interval = 1e9 / rate
        cpu0 = os.times()
        if event == "done":
            emit("send_start", run=run_id, rate=rate)
        t0 = time.monotonic_ns() + 50_000_000
        max_lag = 0
        late = 0
        send_failures = 0
        for seq in range(messages):
            target = t0 + int(seq * interval)
            delay = target - time.monotonic_ns()
            if delay > 0:
                await asyncio.sleep(delay / 1e9)
            lag = time.monotonic_ns() - target
            max_lag = max(max_lag, lag)
            late += lag > 10_000_000
            try:
                await senders[seq % len(senders)].send(self.frame(f"bm.{run_id}.{seq}.{target}."))
            except ConnectionClosed:
                send_failures += 1
        sent_at = time.monotonic_ns()
        # Drain: until everything arrived, or `drain` seconds after the last send.
        try:
            await asyncio.wait_for(run.complete.wait(), cfg["drain"])
        except TimeoutError:
            pass
        finished = time.monotonic_ns()
        cpu1 = os.times()
        wall = (finished - t0) / 1e9
        lat = sorted(run.latencies)
        emit(
            event,
            run=run_id,
            rate=rate,
            members=members,
            messages=messages,
            expected=run.expected,
            delivered=run.delivered,
            duplicates=run.duplicates,
            errors=self.errors,
            send_failures=send_failures,
            stale=self.stale - stale_before,
            other_frames=self.other_frames - other_before,  # acknowledgements, presence, typing
            open=self.open_count(),
            closed=self.closed,
            p50=percentile(lat, 0.50),
            p95=percentile(lat, 0.95),
            p99=percentile(lat, 0.99),
            max=lat[-1] / 1e6 if lat else None,
            mean=sum(lat) / len(lat) / 1e6 if lat else None,
            send_lag_ms=round(max_lag / 1e6, 1),
            late_sends=late,
            drain_seconds=round((finished - sent_at) / 1e9, 2),
            window_seconds=round(wall, 2),
            client_cpu=round(100 * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / wall, 1),
        )
        return run

    async def main(self) -> None:
        cfg = self.cfg
        await self.open_all()
        if self.open_count() == 0:
            emit("fatal", reason="no socket open")
            return
        if cfg["rates"] and cfg.get("warmup"):
            # Not measured: the first sends pay for first connections (each database thread of each worker
            # opens its own), template loading and the like.
            await self.measure(0, cfg.get("warmup_rate", 10.0), duration=cfg["warmup"], event="warmup")
            self.run = None
            await asyncio.sleep(cfg.get("pause", 1.0))
        for run_id, rate in enumerate(cfg["rates"], start=1):
            run = await self.measure(run_id, rate)
            self.run = None
            if cfg.get("stop_after_loss") and run.delivered < run.expected:
                # The server may still be working through a backlog that would spill into the next rate.
                emit("dirty", run=run_id, rate=rate)
                break
            await asyncio.sleep(cfg.get("pause", 1.0))
        if cfg.get("hold"):
            # Idle mode: keep every socket open and see how many survive.
            deadline = time.monotonic() + cfg["hold"]
            while time.monotonic() < deadline:
                await asyncio.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                emit("hold", open=self.open_count(), closed=self.closed)
            emit("held", requested=len(cfg["sockets"]), open=self.open_count(), closed=self.closed)
        for ws in self.sockets:
            if ws is not None:
                ws.transport.abort()  # no closing handshakes: quick and leaves the servers to clean up
        emit("bye")


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        asyncio.run(Client(json.load(f)).main())
