"""Roomcast fan-out benchmark: Roomcast against the practical limit and the Channels-tutorial peer.

    .venv/bin/python bench/run.py                      # 100 members, rates 50,100,200, 10 s each
    .venv/bin/python bench/run.py --quick              # a smoke run, well under a minute
    .venv/bin/python bench/run.py --members 100,1000 --rates 10,50,200 --duration 10
    .venv/bin/python bench/run.py --idle 10000 --hold 30 --systems raw,peer,roomcast
    .venv/bin/python bench/run.py --systems roomcast --members 1000 --rates 10 --notify --push-subscribers 100

For each system (roomcast, peer, raw) and member count it starts the server, opens one socket per member
into one room from a separate client process, sends at each constant arrival rate and prints a table:
delivered/expected, send-to-receive latency percentiles, server CPU and RSS (with Redis and PostgreSQL CPU
beside them, and the client's own CPU, so a saturated client is visible). A PNG of latency and delivery
against rate, a JSON and a Markdown copy of the table go to bench/results/.

All three systems use the same Redis (a spare database, --redis-db, flushed at start; never db 0, which the
test suite uses). Roomcast runs in its production setup: PostgreSQL (a bench database dropped and migrated
afresh each run), channels-redis, DEBUG off, served by `daphne chatsite.asgi:application`.

--notify runs Roomcast with its notifications: a task worker (`manage.py db_worker --no-reload`) beside each
server, a VAPID key pair made for the run, and a local push service (push_sink.py, its own process) as the only
allowed one (PUSH_SERVICES). --push-subscribers N (implies --notify) adds N members to the room who have no
socket open and one Web Push subscription each on that sink: every notification pass pushes to each of them.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import procstat  # noqa: E402

SYSTEMS = ("roomcast", "peer", "raw")
# roomcast-daphne: Roomcast under daphne instead of uvicorn; raw-mem: the raw server broadcasting in-process.
EXTRA_SYSTEMS = ("roomcast-daphne", "raw-mem")
PORTS = {"roomcast": 8801, "peer": 8802, "raw": 8803, "raw-mem": 8804, "roomcast-daphne": 8805}


def log(*parts: object) -> None:
    print("[bench]", *parts, file=sys.stderr, flush=True)


def csv_list(kind):
    return lambda text: [kind(x) for x in text.split(",") if x.strip()]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--members", type=csv_list(int), default=[100], help="room sizes, comma-separated")
    p.add_argument("--rates", type=csv_list(float), default=[50, 100, 200], help="msg/s, comma-separated")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of sending per rate")
    p.add_argument("--drain", type=float, default=5.0, help="max seconds to wait for deliveries after sending")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured sending first")
    p.add_argument("--warmup-rate", type=float, default=50.0, help="msg/s of the warm-up (at most the lowest rate)")
    p.add_argument("--senders", type=int, default=5, help="member sockets the messages are sent from")
    p.add_argument(
        "--systems", type=csv_list(str), default=list(SYSTEMS), help="roomcast,peer,raw[,roomcast-daphne,raw-mem]"
    )
    p.add_argument("--workers", type=int, default=1, help="Roomcast worker processes (uvicorn --workers)")
    p.add_argument("--quick", action="store_true", help="smoke run: 50 members, rates 20,50, 3 s each")
    p.add_argument("--idle", type=int, default=0, help="idle mode: hold this many sockets, no traffic")
    p.add_argument("--hold", type=float, default=30.0, help="idle mode: seconds to hold them")
    p.add_argument("--database", default="roomcast_bench", help="PostgreSQL database, dropped and recreated")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server (no db name)")
    p.add_argument("--redis", default="redis://127.0.0.1:6379", help="Redis server (no db number)")
    p.add_argument("--redis-db", type=int, default=5, help="spare Redis database, flushed at start")
    p.add_argument("--port-offset", type=int, default=0, help="added to the server ports 8801-8804")
    p.add_argument("--profile", action="store_true", help="py-spy the Roomcast server at its highest rate")
    p.add_argument("--pages", type=int, default=0, help="also time page loads on a room of this many messages")
    p.add_argument("--notify", action="store_true", help="Roomcast with its task worker, VAPID keys, a push sink")
    p.add_argument(
        "--push-subscribers", type=int, default=0, help="members with no socket and a push subscription (--notify)"
    )
    p.add_argument("--worker-nice", type=int, default=10, help="--notify: the worker's niceness (README)")
    p.add_argument("--results", type=Path, default=BENCH / "results")
    args = p.parse_args()
    if args.quick:
        args.members, args.rates, args.duration, args.drain = [50], [20, 50], 3.0, 3.0
    if args.idle:
        args.members, args.rates = [args.idle], []
    unknown = set(args.systems) - set(SYSTEMS) - set(EXTRA_SYSTEMS)
    if unknown:
        p.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if args.redis_db == 0:
        p.error("--redis-db 0 is the test suite's database; pick a spare one")
    if args.push_subscribers < 0:
        p.error("--push-subscribers must be 0 or more")
    args.notify = args.notify or args.push_subscribers > 0
    if args.notify and not any(s.startswith("roomcast") for s in args.systems):
        p.error("--notify and --push-subscribers are about Roomcast: add roomcast to --systems")
    return args


# ---- services -----------------------------------------------------------------------------------------


def check_services(args: argparse.Namespace) -> None:
    import redis

    client = redis.Redis.from_url(f"{args.redis}/{args.redis_db}")
    client.ping()
    client.flushdb()
    if any(s.startswith("roomcast") for s in args.systems):
        import psycopg

        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')


def redis_pid(args: argparse.Namespace) -> int | None:
    import redis

    pid = redis.Redis.from_url(f"{args.redis}/{args.redis_db}").info("server").get("process_id")
    return pid if pid and Path(f"/proc/{pid}").exists() else None


class Server:
    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict, port: int, logdir: Path) -> None:
        self.name, self.port = name, port
        self.logfile = logdir / f"{name}-{port}.log"
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.logfile.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.proc.returncode}; see {self.logfile}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not listen on {port} within 30 s; see {self.logfile}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_group(self.proc)


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the process's session (it started one), SIGKILL if it is not gone within 10 s."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


class Background:
    """A process without a port to wait for (the task worker, the push sink), in a session of its own."""

    def __init__(self, name: str, cmd: list[str], env: dict, logfile: Path, stdout=None) -> None:
        self.name, self.logfile = name, logfile
        err = logfile.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=stdout if stdout is not None else err,
            stderr=err,
            start_new_session=True,
            text=stdout is not None,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        stop_group(self.proc)


def tracebacks(logfile: Path, offset: int = 0) -> int:
    if not logfile.exists():
        return 0
    with logfile.open("rb") as f:
        f.seek(offset)
        return f.read().count(b"Traceback (most recent call last)")


# ---- notifications (--notify) -------------------------------------------------------------------------


class PushSink(Background):
    """push_sink.py: its N subscribers' keys in a file for roomcast_setup.py, its totals at GET /stats."""

    def __init__(self, subscribers: int, logdir: Path) -> None:
        self.subscriptions = logdir / "push-subscriptions.json"
        super().__init__(
            "push-sink",
            [
                sys.executable,
                str(BENCH / "push_sink.py"),
                *("--subscribers", str(subscribers), "--out", str(self.subscriptions)),
            ],
            {**os.environ, "PYTHONUNBUFFERED": "1"},
            logdir / "push-sink.log",
            stdout=subprocess.PIPE,
        )
        line = self.proc.stdout.readline().split()  # "ready <origin>", once listening
        if len(line) != 2 or line[0] != "ready":
            self.stop()
            raise RuntimeError(f"push sink did not start; see {self.logfile}")
        self.origin = line[1]

    def stats(self) -> dict | None:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.origin}/stats", timeout=5) as response:
                return json.load(response)
        except OSError as error:
            log(f"push sink: no stats: {error}")
            return None

    def finish(self) -> dict | None:
        """Stop it; its final totals."""
        self.stop()
        out = self.proc.stdout.read().strip().splitlines()
        return json.loads(out[-1]) if out else None


def start_notifications(args: argparse.Namespace, logdir: Path) -> PushSink:
    """The push sink, and a VAPID key pair (manage.py vapid_keys) for the run, in Roomcast's environment."""
    sink = PushSink(args.push_subscribers, logdir)
    out = subprocess.run(
        [sys.executable, "manage.py", "vapid_keys"],
        cwd=ROOT,
        env=roomcast_env(args, args.prefix),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    keys = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    args.notify_env = {
        "VAPID_PUBLIC_KEY": keys["VAPID_PUBLIC_KEY"],
        "VAPID_PRIVATE_KEY": keys["VAPID_PRIVATE_KEY"],
        "VAPID_SUBJECT": "mailto:bench@example.com",
        "PUSH_SERVICES": sink.origin,
    }
    log(f"notifications: push sink at {sink.origin} with {args.push_subscribers} subscribers, VAPID keys made")
    return sink


def start_worker(args: argparse.Namespace, logdir: Path, port: int) -> Background:
    """The task worker as the README runs it (notification passes, pushes), in the server's environment."""
    nice = ["nice", "-n", str(args.worker_nice)] if args.worker_nice else []  # (nice execs: the same pid)
    return Background(
        "worker",
        [*nice, sys.executable, "manage.py", "db_worker", "--no-reload"],
        roomcast_env(args, args.prefix),
        logdir / f"worker-{port}.log",
    )


def roomcast_env(args: argparse.Namespace, prefix: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.database}",
        "REDIS_URL": f"{args.redis}/{args.redis_db}",
        "CHANNEL_PREFIX": prefix,
        "DEBUG": "false",
        "SECRET_KEY": args.secret_key,
        # The benchmark's senders go up to 80 msg/s each, its pages are read over plain HTTP on loopback.
        "SEND_RATE": "0",
        "FRAME_RATE": "0",
        "CATCH_UP_RATE": "0",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "roomcast_settings",  # chatsite.settings + the layer's drop log lines
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]),
        "PYTHONUNBUFFERED": "1",
        **getattr(args, "notify_env", {}),  # --notify: VAPID keys and the push sink as the only push service
    }


def start_server(system: str, args: argparse.Namespace, logdir: Path) -> Server:
    import redis

    # Nothing of an earlier server (groups full of its dead channels, presence) may weigh on this one.
    redis.Redis.from_url(f"{args.redis}/{args.redis_db}").flushdb()
    port = PORTS[system] + args.port_offset
    py = sys.executable
    daphne = [str(Path(py).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "--access-log", os.devnull]
    if system == "roomcast":
        # The production command from the README.
        uvicorn = [
            str(Path(py).parent / "uvicorn"),
            "chatsite.asgi:application",
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers)),
            *("--no-access-log", "--ws-per-message-deflate", "false"),
        ]
        return Server(system, uvicorn, ROOT, roomcast_env(args, args.prefix), port, logdir)
    if system == "roomcast-daphne":
        return Server(
            system, [*daphne, "chatsite.asgi:application"], ROOT, roomcast_env(args, args.prefix), port, logdir
        )
    if system == "peer":
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "peer.settings",
            "REDIS_URL": f"{args.redis}/{args.redis_db}",
            "CHANNEL_PREFIX": f"{args.prefix}-peer",
            "PYTHONPATH": str(BENCH),
        }
        return Server(system, [*daphne, "peer.asgi:application"], BENCH, env, port, logdir)
    cmd = [
        py,
        str(BENCH / "raw_server.py"),
        "--port",
        str(port),
        "--redis-url",
        f"{args.redis}/{args.redis_db}",
        "--channel",
        f"{args.prefix}-raw",
    ]
    if system == "raw-mem":
        cmd.append("--memory")
    return Server(system, cmd, BENCH, {**os.environ}, port, logdir)


def migrate_roomcast(args: argparse.Namespace, logdir: Path) -> None:
    env = roomcast_env(args, args.prefix)
    with (logdir / "migrate.log").open("wb") as out:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=180,
        )


def roomcast_script(args: argparse.Namespace, script: str, *argv: str, timeout: float) -> list[str]:
    """Run one of bench/'s Django scripts in Roomcast's environment; its output lines (the last one JSON)."""
    out = subprocess.run(
        [sys.executable, str(BENCH / script), *argv],
        cwd=ROOT,
        env=roomcast_env(args, args.prefix),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode:
        raise RuntimeError(f"{script} failed:\n{out.stderr[-3000:]}")
    return out.stdout.strip().splitlines()


def page_speed(args: argparse.Namespace) -> list[dict]:
    lines = roomcast_script(args, "pages.py", "--messages", str(args.pages), timeout=900)
    print("\n".join(lines[:-1]), flush=True)
    return json.loads(lines[-1])


def roomcast_members(args: argparse.Namespace, members: int) -> dict:
    extra = ["--push-file", str(args.sink.subscriptions)] if args.sink is not None else []
    return json.loads(roomcast_script(args, "roomcast_setup.py", "--members", str(members), *extra, timeout=600)[-1])


def socket_specs(system: str, port: int, members: int, args: argparse.Namespace) -> list[dict]:
    if system.startswith("roomcast"):
        setup = roomcast_members(args, members)
        log(
            f"roomcast: {members} users, room {setup['room_id']}, sessions ready in {setup['seconds']} s"
            + (f", {setup['push_members']} push members (no socket)" if setup.get("push_members") else "")
        )
        url = f"ws://127.0.0.1:{port}/ws/rooms/{setup['room_id']}/"
        return [{"url": url, "headers": {"Cookie": f"sessionid={key}"}} for key in setup["sessions"]]
    if system == "peer":
        return [{"url": f"ws://127.0.0.1:{port}/ws/chat/bench{members}/"}] * members
    return [{"url": f"ws://127.0.0.1:{port}/"}] * members


# ---- one system x member count ------------------------------------------------------------------------


class PeakRss(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, procstat.rss_bytes(self.pid))
            time.sleep(0.2)

    def reset(self) -> None:
        self.peak = procstat.rss_bytes(self.pid)


def run_client(
    system: str,
    server: Server,
    members: int,
    rates: list[float],
    args: argparse.Namespace,
    logdir: Path,
    worker: Background | None = None,
) -> list[dict]:
    specs = socket_specs(system, server.port, members, args)
    config = {
        "system": system.split("-")[0],  # the protocol: roomcast, peer or raw
        "sockets": specs,
        "origin": f"http://127.0.0.1:{server.port}",
        "senders": max(1, min(args.senders, members)),
        "rates": rates,
        "stop_after_loss": True,
        "duration": args.duration,
        "drain": args.drain,
        "settle": 2.0 if members <= 1000 else 5.0,
        "hold": args.hold if args.idle else 0,
        "connect_concurrency": 50,
        "warmup": args.warmup,
        "warmup_rate": min([args.warmup_rate, *rates]),
    }
    cfg_path = logdir / f"client-{system}-{members}-{len(rates)}.json"
    cfg_path.write_text(json.dumps(config))
    budget = 60 + members * 0.05 + len(rates) * (args.duration + args.drain + 5) + config["hold"] + 30
    client = subprocess.Popen(
        [sys.executable, str(BENCH / "client.py"), str(cfg_path)],
        stdout=subprocess.PIPE,
        stderr=(logdir / f"client-{system}-{members}.log").open("ab"),
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in client.stdout] + [lines.put(None)], daemon=True
    ).start()
    meters = {
        "server": procstat.Meter(server.pid),
        "redis": procstat.Meter(args.redis_pid),
        "pg": procstat.Meter(args.pg_pid, include_reaped=True)
        if system.startswith("roomcast")
        else procstat.Meter(None),
    }
    if worker is not None:
        meters["worker"] = procstat.Meter(worker.pid)
        meters["sink"] = procstat.Meter(args.sink.pid)
    sink_before: dict | None = None
    worker_offset, window_start = 0, None
    rss = PeakRss(server.pid)
    rss.start()
    baseline_rss = procstat.rss_bytes(server.pid)  # before any socket: what the sockets add is measured from here
    rows: list[dict] = []
    profiler = None
    log_offset = 0
    deadline = time.monotonic() + budget
    try:
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                log(f"{system}: client over its {budget:.0f} s budget, stopped")
                break
            if line is None:
                break
            event = json.loads(line)
            kind = event.pop("event")
            if kind == "connected":
                log(
                    f"{system}: {event['open']}/{event['requested']} sockets open in {event['connect_seconds']} s"
                    + (f", failures {event['failures']}" if event["failures"] else "")
                    + (f", closed {event['closed']}" if event["closed"] else "")
                )
                if args.idle:
                    for m in meters.values():
                        m.begin()
                    rss.reset()
                    rows.append({"system": system, "members": members, "connected": event})
            elif kind == "send_start":
                for m in meters.values():
                    m.begin()
                rss.reset()
                log_offset = server.logfile.stat().st_size
                if worker is not None:
                    sink_before = args.sink.stats()
                    worker_offset = worker.logfile.stat().st_size
                    window_start = db_now(args)
                if args.profile and system.startswith("roomcast") and event["rate"] == max(args.rates):
                    profiler = start_profiler(server.pid, logdir, members, event["rate"])
            elif kind == "done":
                row = {"system": system, **event}
                row.update({f"{name}_cpu": m.percent() for name, m in meters.items()})
                row["layer_drops"] = capacity_drops(server.logfile, log_offset)
                row["server_rss_mb"] = round(max(rss.peak, procstat.rss_bytes(server.pid)) / 2**20, 1)
                if worker is not None:
                    row.update(push_row(args, sink_before, args.sink.stats(), worker, worker_offset))
                    row.update(task_stats(args, window_start))
                if profiler is not None:
                    row["profile"] = stop_profiler(profiler)
                    profiler = None
                rows.append(row)
                print(format_row(row), flush=True)
                if "push_subscribers" in row:
                    print(format_push(row), flush=True)
            elif kind == "warmup":
                log(f"{system}: warm-up {event['delivered']}/{event['expected']} delivered, p50 {fmt(event['p50'])} ms")
            elif kind in ("hold", "held"):
                log(f"{system}: {kind} open={event['open']} closed={event['closed']}")
                if kind == "held" and rows:
                    rows[-1].update(
                        held=event,
                        **{f"{name}_cpu": m.percent() for name, m in meters.items()},
                        server_rss_mb=round(procstat.rss_bytes(server.pid) / 2**20, 1),
                        baseline_rss_mb=round(baseline_rss / 2**20, 1),
                        kb_per_socket=round(
                            (procstat.rss_bytes(server.pid) - baseline_rss) / 1024 / max(1, event["open"]), 1
                        ),
                    )
            elif kind == "fatal":
                log(f"{system}: client gave up: {event}")
    finally:
        rss.running = False
        if profiler is not None:
            stop_profiler(profiler)
        if client.poll() is None:
            client.kill()
        client.wait(10)
    return rows


def capacity_drops(logfile: Path, offset: int) -> int:
    """Frames channels-redis dropped because a consumer's channel was full, from its INFO log lines
    ("N of M channels over capacity in group G") written since `offset`."""
    with logfile.open("rb") as f:
        f.seek(offset)
        text = f.read().decode(errors="replace")
    return sum(int(m[1]) for m in CAPACITY.finditer(text))


CAPACITY = re.compile(r"(\d+) of \d+ channels over capacity")


# ---- profiling ----------------------------------------------------------------------------------------


def start_profiler(pid: int, logdir: Path, members: int, rate: float):
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("py-spy not installed: no profile")
        return None
    out = logdir / f"roomcast-{members}-{rate:g}.collapsed"
    proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "200",
            "--format",
            "raw",
            "--threads",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(logdir / "py-spy.log").open("ab"),
    )
    return proc, out


def stop_profiler(profiler) -> str | None:
    if profiler is None:
        return None
    proc, out = profiler
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    return str(out) if out.exists() else None


# ---- output -------------------------------------------------------------------------------------------

HEADER = (
    f"{'system':<9} {'members':>7} {'rate':>6} {'delivered/expected':>22} {'p50':>7} {'p95':>7} {'p99':>7} "
    f"{'max':>7} {'srvCPU%':>7} {'RSS MB':>7} {'redis%':>6} {'pg%':>5} {'cli%':>5} {'lag':>6} {'err':>4} {'drops':>6}"
)


def fmt(value, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def format_row(r: dict) -> str:
    ratio = f"{r['delivered']}/{r['expected']} ({100 * r['delivered'] / r['expected']:.1f}%)"
    return (
        f"{r['system']:<9} {r['members']:>7} {r['rate']:>6g} {ratio:>22} {fmt(r['p50']):>7} {fmt(r['p95']):>7} "
        f"{fmt(r['p99']):>7} {fmt(r['max']):>7} {fmt(r['server_cpu']):>7} {fmt(r['server_rss_mb']):>7} "
        f"{fmt(r['redis_cpu'], '.0f'):>6} {fmt(r['pg_cpu'], '.0f'):>5} {fmt(r['client_cpu'], '.0f'):>5} "
        f"{fmt(r['send_lag_ms'], '.0f'):>6} {r['errors'] + r['send_failures']:>4} {r.get('layer_drops', '-'):>6}"
    )


def push_row(args, before: dict | None, after: dict | None, worker: Background, worker_offset: int) -> dict:
    """--notify: what the sink took during the measured window (send + drain), and the worker's tracebacks."""

    def delta(key: str) -> int | None:
        return after[key] - before[key] if before and after else None

    return {
        "push_subscribers": args.push_subscribers,
        "pushes": delta("deliveries"),
        "push_failures": delta("failures"),
        "push_refused": delta("refused"),
        "push_failure_samples": (after or {}).get("failure_samples", []),
        "worker_tracebacks": tracebacks(worker.logfile, worker_offset),
    }


def db_now(args: argparse.Namespace):
    import psycopg

    with psycopg.connect(f"{args.pg}/{args.database}", autocommit=True) as conn:
        return conn.execute("SELECT now()").fetchone()[0]


def task_stats(args: argparse.Namespace, since) -> dict:
    """The worker's tasks that finished since `since` (the measured window), from django-tasks-db's table: how
    many passes ran or failed (a failed task's traceback is only there, not in the worker's log), how long
    they took, and how late they started against their run_after."""
    import psycopg

    with psycopg.connect(f"{args.pg}/{args.database}", autocommit=True) as conn:
        rows = conn.execute(
            """SELECT task_path, status, count(*),
                      1000 * avg(extract(epoch FROM finished_at - started_at)),
                      1000 * max(extract(epoch FROM finished_at - started_at)),
                      1000 * avg(extract(epoch FROM started_at - run_after)),
                      min(exception_class_path)
               FROM django_tasks_database_dbtaskresult WHERE finished_at >= %s GROUP BY 1, 2""",
            (since,),
        ).fetchall()
    tasks = [
        {
            "task": path.rsplit(".", 1)[-1],
            "status": status,
            "count": count,
            "mean_ms": round(float(mean), 1),
            "max_ms": round(float(top), 1),
            "start_delay_ms": round(float(delay), 1),
            **({"exception": exc} if exc else {}),
        }
        for path, status, count, mean, top, delay, exc in rows
    ]
    return {
        "tasks": tasks,
        "passes": sum(t["count"] for t in tasks if t["task"] == "notify_room" and t["status"] == "SUCCESSFUL"),
        "failed_tasks": sum(t["count"] for t in tasks if t["status"] == "FAILED"),
    }


def format_push(r: dict) -> str:
    return (
        f"{'':<9} notify: {r['push_subscribers']} push subscribers, worker CPU {fmt(r.get('worker_cpu'))}%, "
        f"sink CPU {fmt(r.get('sink_cpu'))}%, pushes in the window {fmt(r['pushes'], 'd')} "
        f"(failures {fmt(r['push_failures'], 'd')}, refused {fmt(r['push_refused'], 'd')}), "
        f"worker tracebacks {r['worker_tracebacks']}\n{'':<9} tasks finished in the window: "
        + (
            ", ".join(
                f"{t['task']} {t['status']} x{t['count']} (mean {t['mean_ms']:g} ms, max {t['max_ms']:g} ms, "
                f"started {t['start_delay_ms']:g} ms late{', ' + t['exception'] if 'exception' in t else ''})"
                for t in r.get("tasks", [])
            )
            or "none"
        )
    )


def markdown(rows: list[dict]) -> str:
    head = (
        "| system | members | rate | delivered/expected | p50 ms | p95 ms | p99 ms | max ms | server CPU % | "
        "server RSS MB | Redis CPU % | PG CPU % | client CPU % | send lag ms | errors | layer drops |"
    )
    notify = any("push_subscribers" in r for r in rows)
    if notify:
        head += " push subscribers | worker CPU % | sink CPU % | pushes | push failures |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        if "delivered" not in r:
            continue
        extra = (
            f" {r.get('push_subscribers', '-')} | {fmt(r.get('worker_cpu'))} | {fmt(r.get('sink_cpu'))} | "
            f"{fmt(r.get('pushes'), 'd')} | {fmt(r.get('push_failures'), 'd')} |"
            if notify
            else ""
        )
        pct = 100 * r["delivered"] / r["expected"]
        lines.append(
            f"| {r['system']} | {r['members']} | {r['rate']:g} | {r['delivered']}/{r['expected']} ({pct:.1f}%) | "
            f"{fmt(r['p50'])} | {fmt(r['p95'])} | {fmt(r['p99'])} | {fmt(r['max'])} | {fmt(r['server_cpu'])} | "
            f"{fmt(r['server_rss_mb'])} | {fmt(r['redis_cpu'], '.0f')} | {fmt(r['pg_cpu'], '.0f')} | "
            f"{fmt(r['client_cpu'], '.0f')} | {fmt(r['send_lag_ms'], '.0f')} | {r['errors'] + r['send_failures']} | "
            f"{r.get('layer_drops', '-')} |" + extra
        )
    return "\n".join(lines) + "\n"


def pages_markdown(pages: list[dict]) -> str:
    if not pages:
        return ""
    lines = ["", f"Page loads, room of {pages[0]['messages']:,} messages:", "", "| page | queries | p50 ms | p95 ms |"]
    lines.append("|---|---|---|---|")
    lines += [f"| {r['page']} | {r['queries']} | {r['p50']} | {r['p95']} |" for r in pages]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib not installed: no plot")
        return False
    rows = [r for r in rows if "delivered" in r]
    sizes = sorted({r["members"] for r in rows})
    if not sizes:
        return False
    fig, axes = plt.subplots(
        2, len(sizes), figsize=(6 * len(sizes), 8), squeeze=False, gridspec_kw={"height_ratios": [3, 1]}
    )
    colors = {
        "roomcast": "tab:red",
        "peer": "tab:blue",
        "raw": "tab:green",
        "raw-mem": "tab:olive",
        "roomcast-daphne": "tab:orange",
    }
    for col, size in enumerate(sizes):
        lat, dlv = axes[0][col], axes[1][col]
        for system in dict.fromkeys(r["system"] for r in rows):
            mine = sorted((r for r in rows if r["system"] == system and r["members"] == size), key=lambda r: r["rate"])
            if not mine:
                continue
            rates = [r["rate"] for r in mine]
            c = colors.get(system)
            lat.plot(rates, [r["p99"] for r in mine], "-o", color=c, label=f"{system} p99")
            lat.plot(rates, [r["p50"] for r in mine], "--", marker=".", color=c, label=f"{system} p50")
            dlv.plot(rates, [100 * r["delivered"] / r["expected"] for r in mine], "-o", color=c, label=system)
        lat.set_yscale("log")
        lat.set_title(f"{size}-member room: send-to-receive latency")
        lat.set_ylabel("ms (log)")
        lat.grid(True, which="both", alpha=0.3)
        lat.legend(fontsize=8)
        dlv.set_xlabel("send rate (msg/s)")
        dlv.set_ylabel("delivered %")
        dlv.set_ylim(0, 105)
        dlv.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def idle_table(rows: list[dict]) -> str:
    out = [
        f"{'system':<9} {'sockets':>7} {'open':>6} {'connect s':>9} {'held open':>9} {'srvCPU%':>7} {'RSS MB':>7} "
        f"{'idle RSS':>8} {'KB/socket':>9}"
    ]
    for r in rows:
        c, h = r.get("connected", {}), r.get("held", {})
        out.append(
            f"{r['system']:<9} {r['members']:>7} {c.get('open', '-'):>6} {c.get('connect_seconds', '-'):>9} "
            f"{h.get('open', '-'):>9} {fmt(r.get('server_cpu')):>7} {fmt(r.get('server_rss_mb')):>7} "
            f"{fmt(r.get('baseline_rss_mb')):>8} {fmt(r.get('kb_per_socket')):>9}"
        )
    return "\n".join(out)


# ---- main ---------------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    logdir = Path(os.environ.get("BENCH_SCRATCH", "/tmp/roomcast-bench")) / stamp
    logdir.mkdir(parents=True, exist_ok=True)
    args.results.mkdir(parents=True, exist_ok=True)
    args.prefix = f"rcbench{os.getpid()}"
    args.secret_key = secrets.token_urlsafe(40)
    log(f"logs in {logdir}")
    check_services(args)
    args.redis_pid = redis_pid(args)
    uses_db = args.pages or any(s.startswith("roomcast") for s in args.systems)
    args.pg_pid = procstat.find_postmaster() if uses_db else None
    if uses_db:
        started = time.monotonic()
        migrate_roomcast(args, logdir)
        log(f"roomcast: database {args.database} migrated in {time.monotonic() - started:.1f} s")
    args.sink = start_notifications(args, logdir) if args.notify else None
    try:
        rows, pages = measure_all(args, logdir)
    finally:
        sink_totals = args.sink.finish() if args.sink is not None else None
    if sink_totals is not None:
        log(
            f"push sink, whole run: {sink_totals['deliveries']} delivered, {sink_totals['failures']} failed, "
            f"{sink_totals['refused']} refused" + "".join(f"\n  {f}" for f in sink_totals["failure_samples"])
        )
    report(args, stamp, rows, pages, sink_totals)
    return 0


def measure_all(args: argparse.Namespace, logdir: Path) -> tuple[list[dict], list[dict]]:
    pages = page_speed(args) if args.pages else []
    rows: list[dict] = []
    if not args.idle and args.rates:
        print(HEADER, flush=True)
    for members in args.members if args.rates or args.idle else []:  # (--rates "" --pages N: pages only)
        for system in args.systems:
            # A fresh server for the rates left whenever a rate lost deliveries (its backlog would spill over).
            rates = list(args.rates)
            while True:
                server = start_server(system, args, logdir)
                notify = args.sink is not None and system.startswith("roomcast")
                worker = start_worker(args, logdir, server.port) if notify else None
                try:
                    done = run_client(system, server, members, rates, args, logdir, worker)
                except Exception as error:
                    log(f"{system} x {members}: failed: {error}")
                    break
                finally:
                    server.stop()
                    if worker is not None:
                        worker.stop()
                        if errors := tracebacks(worker.logfile):
                            log(f"worker: {errors} tracebacks in {worker.logfile}")
                rows += done
                measured = {r["rate"] for r in done if "rate" in r}
                rates = [r for r in rates if r not in measured]
                if not rates or not measured:
                    break
                log(f"{system}: restarting the server for rates {', '.join(f'{r:g}' for r in rates)}")
    return rows, pages


def report(args: argparse.Namespace, stamp: str, rows: list[dict], pages: list[dict], sink: dict | None) -> None:
    base = args.results / f"bench-{stamp}"
    meta = {k: v for k, v in vars(args).items() if k not in {"secret_key", "results", "notify_env", "sink"}}
    base.with_suffix(".json").write_text(
        json.dumps({"args": meta, "rows": rows, "pages": pages, "push_sink": sink}, indent=1, default=str)
    )
    if args.idle:
        print(idle_table(rows))
    else:
        base.with_suffix(".md").write_text(markdown(rows) + pages_markdown(pages))
        if plot(rows, base.with_suffix(".png")):
            log(f"plot: {base.with_suffix('.png')}")
    for r in rows:
        if r.get("profile"):
            log(f"profile ({r['system']} {r['members']} members, {r['rate']:g}/s): {r['profile']}")
    log(f"results: {base}.*")


if __name__ == "__main__":
    sys.exit(main())
