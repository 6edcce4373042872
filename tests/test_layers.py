"""The layers hold: realtime knows no chat, the chat no moderation, moderation no accounts (make lint)."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = ROOT / ".venv" / "bin" / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT)], cwd=tree, capture_output=True, text=True, timeout=120)


def test_the_tree_keeps_its_layers_and_a_reverse_import_breaks_the_contract(tmp_path):
    assert lint(ROOT).returncode == 0
    for package in ("realtime", "rooms", "moderation", "accounts"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for module, reverse in (
        ("realtime/hub.py", "from rooms import services"),  # infrastructure reaching into the chat
        ("rooms/access.py", "from moderation import services"),  # the chat calling moderation back
    ):
        original = (tmp_path / module).read_text()
        (tmp_path / module).write_text(f"{reverse}  # noqa\n{original}")
        result = lint(tmp_path)
        assert result.returncode != 0 and "BROKEN" in result.stdout, module
        (tmp_path / module).write_text(original)
