"""Summarize a py-spy `--format raw` profile (collapsed stacks): samples per thread, and the functions with
the most samples, inclusive (on the stack) and self (at the top of the stack; idle waits included).

    .venv/bin/python bench/profile_summary.py /tmp/roomcast-bench/<run>/roomcast-100-200.collapsed
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

IDLE = re.compile(r"\b(select|poll|epoll_wait|wait|_worker|doPoll|_run_once)\b")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--match", default="", help="only stacks containing this text (e.g. a thread name)")
    args = p.parse_args()
    threads, inclusive, leaf = Counter(), Counter(), Counter()
    total = 0
    with open(args.path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit() or (args.match and args.match not in stack):
                continue  # (a last line cut short when the profiler stopped has no count)
            n = int(count)
            frames = stack.split(";")
            total += n
            threads[frames[0]] += n
            for frame in set(frames[1:]):
                inclusive[frame] += n
            leaf[frames[-1]] += n
    print(f"{total} samples")
    print("\nper thread:")
    for name, n in threads.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\ninclusive:")
    for name, n in inclusive.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\nself:")
    for name, n in leaf.most_common(args.top):
        print(f"  {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
