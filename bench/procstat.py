"""CPU seconds and RSS of process trees from /proc (Linux), without extra packages."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after its closing one.
    return [raw[: raw.index(" ")], raw[raw.index("(") + 1 : raw.rindex(")")], *raw[raw.rindex(")") + 2 :].split()]


def children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except OSError:
            pass
    return found


def tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += children(p)
    return pids


def cpu_seconds(pid: int, *, include_reaped: bool = False) -> float:
    """User + system CPU of the process and its live descendants (and of reaped children if asked: a
    postmaster's exited backends)."""
    total = 0.0
    for p in tree(pid):
        fields = _stat(p)
        if fields is None:
            continue
        # fields: pid, comm, state, ppid, ... utime is field 14, stime 15, cutime 16, cstime 17 (1-based).
        total += int(fields[13]) + int(fields[14])
        if include_reaped and p == pid:
            total += int(fields[15]) + int(fields[16])
    return total / TICKS


def rss_bytes(pid: int) -> int:
    total = 0
    for p in tree(pid):
        fields = _stat(p)
        if fields is not None:
            total += int(fields[23]) * PAGE
    return total


def find_postmaster() -> int | None:
    """The PostgreSQL server's parent process, if it is visible from here."""
    comms = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            comms[int(entry)] = (fields[1], int(fields[3]))
    for pid, (comm, ppid) in comms.items():
        if comm.startswith("postgres") and not comms.get(ppid, ("",))[0].startswith("postgres"):
            return pid
    return None


class Meter:
    """CPU% (of one core) of a process tree between two snapshots."""

    def __init__(self, pid: int | None, *, include_reaped: bool = False) -> None:
        self.pid = pid
        self.include_reaped = include_reaped
        self.start: tuple[float, float] | None = None

    def _now(self) -> tuple[float, float]:
        return os.times().elapsed, cpu_seconds(self.pid, include_reaped=self.include_reaped)

    def begin(self) -> None:
        if self.pid is not None:
            self.start = self._now()

    def percent(self) -> float | None:
        if self.pid is None or self.start is None:
            return None
        wall, cpu = self._now()
        elapsed = wall - self.start[0]
        return round(100 * (cpu - self.start[1]) / elapsed, 1) if elapsed > 0 else None
