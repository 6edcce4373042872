"""The soak's short version: bench/soak.py with a few clients for half a minute, through random disconnects,
a Redis restart and a worker killed mid-conversation. Every client must end with every stored message once."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = os.environ.get("CI", "").lower() == "true"


def test_short_soak_loses_and_duplicates_nothing():
    url = os.environ.get("DATABASE_URL", "")
    missing = [
        reason
        for reason, absent in (
            ("PostgreSQL (DATABASE_URL)", not url.startswith("postgres")),
            ("redis-server", shutil.which("redis-server") is None),
        )
        if absent
    ]
    if missing:
        reason = f"the soak runs the production setup and needs {' and '.join(missing)}"
        if CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(f"SKIPPED LOUDLY: {reason}")
    parts = urlsplit(url)
    run = subprocess.run(
        [
            *(sys.executable, "bench/soak.py", "--clients", "8", "--seconds", "24", "--seed", "5", "--json"),
            *("--pg", f"{parts.scheme}://{parts.netloc}", "--database", "roomcast_soak_test"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["sent"] > 8 * 4 and result["reconnects"] >= 8  # it chatted, and went through its faults
    assert result["stored"] == result["sent"] and result["stored_twice"] == result["unsaved"] == 0
    assert result["delivered"] == result["expected"] == result["stored"] * 8
    assert result["lost"] == result["duplicated"] == result["unknown"] == 0
