"""Fan-out with and without Web Push subscribers, in alternating rounds (A B A B ...), so that drift on a shared
machine weighs on both alike; prints each round's figures and the medians.

    .venv/bin/python bench/push_compare.py --rounds 3 --push-subscribers 100 --out /tmp/bench-push/rounds -- \\
        --members 1000 --rates 10 --duration 20 --workers 2 --redis-db 9 --database bench_push

Everything after `--` goes to run.py for both (one member count, one rate, --systems roomcast is added).
A is `--notify` (task worker, VAPID keys, push sink, no subscriber), B is `--push-subscribers N`: the only
difference is the N members who have no socket and one push subscription each.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--push-subscribers", type=int, default=100)
    p.add_argument("--out", type=Path, default=Path("/tmp/bench-push/rounds"))
    p.add_argument("--b-args", default="", help="more run.py options for B only, e.g. '--worker-nice 10'")
    p.add_argument("run_args", nargs=argparse.REMAINDER, help="-- then run.py's options")
    args = p.parse_args()
    run_args = [a for a in args.run_args if a != "--"]
    args.out.mkdir(parents=True, exist_ok=True)
    cases = {"A": ["--notify"], "B": ["--push-subscribers", str(args.push_subscribers), *args.b_args.split()]}
    results: dict[str, list[dict]] = {"A": [], "B": []}
    for round_no in range(1, args.rounds + 1):
        for case, extra in cases.items():
            where = args.out / f"{round_no}{case}"
            load = os.getloadavg()[0]
            cmd = [sys.executable, str(BENCH / "run.py"), "--systems", "roomcast", *run_args, *extra]
            cmd += ["--results", str(where)]
            print(f"[compare] round {round_no} {case} (load {load:.2f}): {' '.join(cmd[1:])}", file=sys.stderr)
            subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, "BENCH_SCRATCH": str(args.out / "logs")})
            report = json.loads(sorted(where.glob("bench-*.json"))[-1].read_text())
            rows = [r for r in report["rows"] if "delivered" in r]
            if len(rows) != 1:
                raise SystemExit(f"round {round_no} {case}: {len(rows)} measured rows, want 1; see {where}")
            results[case].append({**rows[0], "round": round_no, "load": round(load, 2), "sink": report["push_sink"]})
            (args.out / "rounds.json").write_text(json.dumps(results, indent=1, default=str))
    print(table(results))
    return 0


COLUMNS = [
    ("p50", "p50 ms", ".1f"),
    ("p95", "p95 ms", ".1f"),
    ("p99", "p99 ms", ".1f"),
    ("max", "max ms", ".1f"),
    ("server_cpu", "server CPU %", ".1f"),
    ("worker_cpu", "worker CPU %", ".1f"),
    ("sink_cpu", "sink CPU %", ".1f"),
    ("pg_cpu", "PG CPU %", ".0f"),
    ("redis_cpu", "Redis CPU %", ".0f"),
    ("client_cpu", "client CPU %", ".0f"),
    ("send_lag_ms", "send lag ms", ".0f"),
]


def cell(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: dict[str, list[dict]]) -> str:
    head = "| round | push subscribers | load | delivered | " + " | ".join(c[1] for c in COLUMNS)
    head += " | passes | pushes | push failures |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    rounds = sorted({r["round"] for rs in results.values() for r in rs})
    for n in rounds:
        for case in ("A", "B"):
            for r in (r for r in results[case] if r["round"] == n):
                lines.append(
                    f"| {n}{case} | {r['push_subscribers']} | {r['load']} | {r['delivered']}/{r['expected']} | "
                    + " | ".join(cell(r.get(k), spec) for k, _, spec in COLUMNS)
                    + f" | {r.get('passes', '-')} | {r.get('pushes', '-')} | {r.get('push_failures', '-')} |"
                )
    medians = {}
    for case in ("A", "B"):
        rs = results[case]
        if not rs:
            continue
        medians[case] = {k: statistics.median(r[k] for r in rs if r.get(k) is not None) for k, _, _ in COLUMNS}
        lines.append(
            f"| median {case} | {rs[0]['push_subscribers']} | | | "
            + " | ".join(cell(medians[case][k], spec) for k, _, spec in COLUMNS)
            + f" | {statistics.median(r.get('passes') or 0 for r in rs):g}"
            + f" | {statistics.median(r.get('pushes') or 0 for r in rs):g}"
            + f" | {sum(r.get('push_failures') or 0 for r in rs)} |"
        )
    if len(medians) == 2:
        a, b = medians["A"], medians["B"]
        for k in ("p50", "p99"):
            lines.append(f"\nmedian {k}: B/A = {b[k] / a[k]:.3f} ({100 * (b[k] / a[k] - 1):+.1f}%)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
