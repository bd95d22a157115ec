"""`status --all --output html FILE`, opened in headless Chromium (Debian's package, `make chromium`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from tutormail.reputation.health import SendingColumns

from tests.conftest import run_cli
from tests.unit.fakes import status_row

# Flags that keep Chromium on this machine: no sync, updates, QUIC or background requests.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


class _Dom(HTMLParser):
    """The rows (shown or hidden) and the phase counts of the dumped DOM."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str, bool]] = []
        self.counts: dict[str, int] = {}
        self._count_for: str | None = None
        self._in_strong = False
        self.status_text = ""
        self._in_status = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-institution" in attrs:
            self.rows.append((attrs["data-institution"], "hidden" in attrs))
        elif tag == "li" and "data-phase" in attrs:
            self._count_for = attrs["data-phase"]
        elif tag == "strong" and self._count_for:
            self._in_strong = True
        elif tag == "p" and attrs.get("id") == "shown":
            self._in_status = True

    def handle_endtag(self, tag):
        if tag == "strong":
            self._in_strong = False
        elif tag == "li":
            self._count_for = None
        elif tag == "p":
            self._in_status = False

    def handle_data(self, data):
        if self._in_strong and self._count_for:
            self.counts[self._count_for] = int(data)
        if self._in_status:
            self.status_text += data


def chromium(*args, tmp_path):
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium is missing: run `make chromium` (the test set-up installs it as root)"
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    result = subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_status_page_counts_phases_and_filters_rows(deployed, tmp_path):
    env = deployed["env"]
    page = tmp_path / "status.html"
    written = run_cli("status", "--all", "--offline", "--format", "html", "--out", str(page), env=env)
    assert written.stdout.strip() == str(page) and page.exists(), written.stderr
    html = page.read_text()
    assert "http://" not in html and "https://" not in html and "<link" not in html  # nothing to fetch
    rows = json.loads(run_cli("status", "--all", "--offline", "--output", "json", env=env).stdout)["rows"]

    dom = _Dom()
    dom.feed(chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path))
    assert len(dom.rows) == len(rows) and not any(hidden for _, hidden in dom.rows)
    expected = Counter(r["phase"] for r in rows)
    assert {k: v for k, v in dom.counts.items() if k != "paused"} == dict(expected)
    assert dom.status_text == f"{len(rows)} of {len(rows)} rows shown"

    filtered = _Dom()
    filtered.feed(chromium("--dump-dom", f"{page.as_uri()}#q=faculdade-delta", tmp_path=tmp_path))
    shown = [slug for slug, hidden in filtered.rows if not hidden]
    wanted = [r for r in rows if r["institution"] == "faculdade-delta"]
    assert shown and set(shown) == {"faculdade-delta"} and len(shown) == len(wanted)
    assert filtered.status_text == f"{len(wanted)} of {len(rows)} rows shown"

    screenshot = tmp_path / "status.png"
    chromium(f"--screenshot={screenshot}", "--window-size=1280,900", f"{page.as_uri()}#q=escola", tmp_path=tmp_path)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _page_of(rows, tmp_path, measure: bool = False):
    """A page rendered from these rows; with `measure`, a script of the test's own writes how wide
    the document is into <body data-width> once the page's script has run."""
    from tutormail.fleet.html_page import render

    html = render(rows, "2026-01-05T12:00:00Z")
    if measure:
        html = html.replace("</body>", "<script>document.body.dataset.width ="
                            " document.documentElement.scrollWidth;</script></body>")
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    return page


ROW = status_row(phase="2", next_action="smtp-settings", actor="operator",
                 health=SendingColumns("enabled", bounce_rate=0.01, complaint_rate=0.0))


@pytest.mark.parametrize("fragment", ["q=%E0%A4%A", "q=%", "q=%zz&x", "q"])
def test_a_malformed_fragment_still_counts_the_rows(tmp_path, fragment):
    page = _page_of([ROW, replace(ROW, institution="faculdade-delta")], tmp_path)
    dom = _Dom()
    dom.feed(chromium("--dump-dom", f"{page.as_uri()}#{fragment}", tmp_path=tmp_path))
    assert dom.status_text.endswith("of 2 rows shown"), dom.status_text


def test_a_long_unbroken_name_does_not_push_the_columns_off_screen(tmp_path):
    page = _page_of([ROW, replace(ROW, company="Escola" + "X" * 300)], tmp_path, measure=True)
    dom = chromium("--dump-dom", "--window-size=1280,900", page.as_uri(), tmp_path=tmp_path)
    width = int(re.search(r'data-width="(\d+)"', dom).group(1))
    assert width <= 1280, f"the page is {width} px wide in a 1280 px window"
