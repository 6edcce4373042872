"""Soak: N page-like clients chat in one room for a while, through random disconnects, a Redis restart and a
worker killed mid-conversation; then every client must show every stored message exactly once.

    .venv/bin/python bench/soak.py --clients 20 --seconds 120 --workers 2

Runs the production setup on this machine: a PostgreSQL database of its own (dropped and created), a Redis
server of its own (so it can be restarted), and uvicorn with the README's command. Prints messages sent,
stored, delivered, lost and duplicated, and exits 1 if anything was lost or duplicated. tests/test_soak.py
runs a short version.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.production import Page, RedisServer, Workers, server_env, settle, tally  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL")
    parser.add_argument("--database", default="roomcast_soak")
    parser.add_argument("--gap", type=float, default=3.0, help="mean seconds between one client's messages")
    parser.add_argument("--drops", type=float, default=0.02, help="chance per second that a client's link drops")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="end with one line of JSON (for tests)")
    return parser.parse_args()


def log(*parts: object) -> None:
    print(f"[soak {time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def fresh_database(args: argparse.Namespace) -> str:
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    return f"{args.pg}/{args.database}"


def prepare(env: dict[str, str], clients: int) -> dict:
    """Migrate, then bench/roomcast_setup.py: users, their room and a login session each."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "roomcast_setup.py"), "--members", str(clients)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def stored(database_url: str, room_id: int) -> tuple[list[tuple[int, int, str]], int]:
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT id, seq, body FROM rooms_message WHERE room_id = %s AND deleted_at IS NULL", [room_id]
        ).fetchall()
        (last_seq,) = conn.execute("SELECT last_seq FROM rooms_room WHERE id = %s", [room_id]).fetchone()
    return rows, last_seq


async def soak(args: argparse.Namespace, redis: RedisServer, workers: Workers, setup: dict) -> list[Page]:
    pages = [
        Page(workers.address, setup["room_id"], f"sessionid={key}", f"c{n}") for n, key in enumerate(setup["sessions"])
    ]
    stop = asyncio.Event()
    runs = [asyncio.ensure_future(page.run(stop)) for page in pages]
    end = time.monotonic() + args.seconds

    async def talk(page: Page) -> None:
        count = 0
        while time.monotonic() < end:
            await asyncio.sleep(random.expovariate(1 / args.gap))
            count += 1
            await page.say(f"{page.name}-{count}")
            if random.random() < args.drops * args.gap:
                page.drop()  # the link goes; the page reconnects and resends what was not acknowledged

    async def faults() -> None:
        await asyncio.sleep(args.seconds / 3)
        log("restarting Redis")
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(2)
        await asyncio.to_thread(redis.start)
        await asyncio.sleep(args.seconds / 3)
        log(f"killing worker {workers.kill_worker()}")

    await asyncio.gather(faults(), *(talk(page) for page in pages))
    log("sending stopped; waiting for every page to settle")
    for _ in range(3):  # the last sends may still be on their way when the first count is read
        _, last_seq = await asyncio.to_thread(stored, args.database_url, setup["room_id"])
        await settle(pages, last_seq, within=30)
    stop.set()
    for page in pages:
        page.drop()
    for run in runs:
        run.cancel()
    await asyncio.gather(*runs, return_exceptions=True)
    return pages


def main() -> int:
    args = parse_args()
    random.seed(args.seed)
    args.database_url = fresh_database(args)
    redis = RedisServer()
    logdir = Path(tempfile.mkdtemp(prefix="roomcast-soak-"))
    env = server_env(args.database_url, redis.url, f"roomcast-soak-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex * 2)
    workers = None
    try:
        setup = prepare(env, args.clients)
        workers = Workers(env, count=args.workers, log=logdir / "uvicorn.log")
        log(f"{args.clients} clients, {args.seconds:g} s, {args.workers} workers; server log in {logdir}")
        pages = asyncio.run(soak(args, redis, workers, setup))
    finally:
        if workers:
            workers.stop()
        redis.stop()
    rows, _ = stored(args.database_url, setup["room_id"])
    result = tally(pages, rows) | {"seconds": args.seconds, "workers": args.workers}
    print("| clients | seconds | sent | stored | delivered / expected | lost | duplicated | reconnects | refusals |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {result['pages']} | {args.seconds:g} | {result['sent']} | {result['stored']} "
        f"| {result['delivered']} / {result['expected']} | {result['lost']} | {result['duplicated']} "
        f"| {result['reconnects']} | {result['refused']} |"
    )
    if args.json:
        print(json.dumps(result))
    bad = ("lost", "duplicated", "unknown", "unsaved", "stored_twice", "unacknowledged")
    return 1 if any(result[k] for k in bad) else 0


if __name__ == "__main__":
    sys.exit(main())
