"""axe-core in the e2e browser: run it on the page as it is and say, readably, what it finds.

axe-core comes from npm (package.json pins it; `make test` runs `npm ci`). The site's Content Security Policy
allows only scripts from 'self' with the page's nonce, so a <script> tag added by the test (Playwright's
add_script_tag) is refused. The source goes in through page.evaluate instead: the DevTools protocol runs it
as the page's own code without a script element, which the policy does not govern (the CSP check in
e2e/test_accessibility.py proves both). The policy is never loosened for the test.

Rules: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices. Best practices are in because issue 12's
accessibility bullet asks for what most of them check (labelled landmarks, a skip link, one main, a page
heading) and because "axe-core reports zero violations" means axe's default run, which includes them.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# How many of a rule's elements a report shows (the count says how many there are).
NODES_SHOWN = 3
HTML_SHOWN = 200  # characters of an element's HTML

RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.map(String), html: n.html, summary: n.failureSummary})),
  }));
}"""


@functools.cache
def axe_source() -> str:
    """axe.min.js's text. Missing (npm ci not run): under CI=true the test fails, elsewhere it skips loudly."""
    if not AXE_JS.exists():
        message = f"{AXE_JS} is missing: the accessibility check needs axe-core from npm (make axe, or npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    return AXE_JS.read_text(encoding="utf-8")


def inject(page: Page) -> None:
    """Load axe into the page (once per document) without a script element, so the CSP stays as it is."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    version = page.evaluate("window.axe && window.axe.version")
    assert version, "axe-core did not load into the page"


def violations(page: Page) -> list[dict]:
    """What axe finds on the page now: each rule broken, with its impact, help and every element breaking it."""
    inject(page)
    return page.evaluate(RUN, TAGS)


def report(found: list[dict], where: str = "") -> str:
    """The violations as text a person can act on: rule, impact, help, and the first elements' targets and
    HTML."""
    if not found:
        return f"{where}: no accessibility violations" if where else "no accessibility violations"
    count = sum(len(v["nodes"]) for v in found)
    lines = [f"{where + ': ' if where else ''}{len(found)} axe rule(s) broken on {count} element(s)"]
    for v in found:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])}]  {v['helpUrl']}")
        for node in v["nodes"][:NODES_SHOWN]:
            html = " ".join(node["html"].split())
            html = html if len(html) <= HTML_SHOWN else html[: HTML_SHOWN - 1] + "…"
            lines.append(f"    {' > '.join(node['target'])}")
            lines.append(f"      {html}")
            if summary := " ".join(node["summary"].split("\n")[1:2]).strip():  # its first reason
                lines.append(f"      {summary}")
        if len(v["nodes"]) > NODES_SHOWN:
            lines.append(f"    … and {len(v['nodes']) - NODES_SHOWN} more")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str = "") -> None:
    """Fail with the readable report if axe finds any violation on the page."""
    if found := violations(page):
        pytest.fail(report(found, where or page.url), pytrace=False)
