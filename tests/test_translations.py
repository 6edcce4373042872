"""Simplified Chinese is complete and compiled: no translation in locale/zh_Hans is empty or fuzzy, every string
marked in the code (templates and Python) has one, and django.mo is what django.po compiles to.

The code's strings are extracted as `make messages` does (Django's makemessages, GNU gettext underneath), in a
copy of the tree, so the real locale/ is never touched. Needs GNU gettext: `make test` installs it under CI."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# What makemessages leaves out, as in `make messages`: other people's code, tests and generated files.
IGNORED = [".venv", "bench", "e2e", "tests", "staticfiles", "node_modules"]
CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module", autouse=True)
def _gettext() -> None:
    missing = [tool for tool in ("xgettext", "msgmerge", "msgattrib", "msgcmp", "msgfmt") if not shutil.which(tool)]
    if missing:
        message = f"GNU gettext is missing ({', '.join(missing)}): apt-get install gettext"
        if CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")


def gettext_tool(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True)


def msgids(po_text: str) -> list[str]:
    """The msgids of the entries in a piece of a .po file (the header left out), for saying which are wrong."""
    found = []
    for entry in po_text.split("\n\n"):
        if msgid := re.search(r'^msgid ((?:".*"\n?)+)', entry, re.MULTILINE):
            if text := "".join(re.findall(r'"(.*)"', msgid[1])):
                found.append(text)
    return found


def test_no_translation_is_empty_or_fuzzy():
    untranslated = gettext_tool("msgattrib", "--untranslated", "--no-obsolete", PO)
    fuzzy = gettext_tool("msgattrib", "--only-fuzzy", "--no-obsolete", PO)
    assert untranslated.returncode == fuzzy.returncode == 0, untranslated.stderr + fuzzy.stderr
    assert msgids(untranslated.stdout) == [], "untranslated in locale/zh_Hans"
    assert msgids(fuzzy.stdout) == [] and "#, fuzzy" not in fuzzy.stdout, "fuzzy in locale/zh_Hans"


def test_every_string_marked_in_the_code_has_a_translation(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.sqlite3*", *IGNORED))
    ignore = [f"--ignore={name}" for name in IGNORED]
    extracted = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--keep-pot", *ignore],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    assert extracted.returncode == 0, extracted.stderr
    pot = tree / "locale" / "django.pot"
    assert msgids(pot.read_text()), "nothing extracted: is makemessages looking at the code?"
    # msgcmp counts empty and fuzzy translations as missing too.
    compared = gettext_tool("msgcmp", PO, pot)
    assert compared.returncode == 0, (
        "strings marked in the code without a translation in locale/zh_Hans (run `make messages`, translate, and "
        f"run it again):\n{compared.stderr}"
    )


def test_the_compiled_catalog_is_what_the_po_file_compiles_to(tmp_path):
    fresh = tmp_path / "django.mo"
    compiled = gettext_tool("msgfmt", "--check-format", "-o", fresh, PO)
    assert compiled.returncode == 0, compiled.stderr
    with fresh.open("rb") as new, MO.open("rb") as committed:
        # Compared as catalogs: msgfmt versions may lay the same catalog out differently.
        assert gettext.GNUTranslations(committed)._catalog == gettext.GNUTranslations(new)._catalog, (
            "locale/zh_Hans/LC_MESSAGES/django.mo is out of date: run `make messages`"
        )
