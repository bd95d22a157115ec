"""`tutormail status --all --format html --out FILE`: the fleet on one self-contained page.

No network: styles and the filter script are inline, nothing is fetched. The filter is plain text
over every cell; `#q=<text>` in the address sets it, so a link (or a headless browser) can open the
page already filtered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from html import escape
from typing import Any

from tutormail.fleet.status import StatusRow
from tutormail.reputation.health import rate_text

# Nothing may be fetched: the page works from a file, offline, and leaks no request anywhere.
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
COLUMNS: tuple[tuple[str, Callable[[StatusRow], Any]], ...] = (
    ("Institution", lambda r: r.institution), ("Company", lambda r: r.company), ("Account", lambda r: r.account),
    ("Address", lambda r: r.address), ("Phase", lambda r: r.phase), ("Next action", lambda r: r.next_action),
    ("Who", lambda r: r.actor), ("Link expires", lambda r: r.link_expires_at), ("Sending", lambda r: r.health.sending),
    ("Bounce", lambda r: rate_text(r.health.bounce_rate)), ("Complaint", lambda r: rate_text(r.health.complaint_rate)))

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1b1b;background:#fff}
h1{font-size:1.4rem}
.counts{display:flex;flex-wrap:wrap;gap:.75rem;padding:0;list-style:none}
.counts li{border:1px solid #767676;border-radius:.4rem;padding:.4rem .8rem}
.counts strong{font-size:1.2rem;margin-right:.3rem}
label{font-weight:600;margin-right:.5rem}
input{font:inherit;padding:.3rem .5rem;border:2px solid #444;border-radius:.3rem;min-width:20rem}
input:focus{outline:3px solid #0b5fff;outline-offset:2px}
table{border-collapse:collapse;margin-top:1rem;width:100%}
caption{text-align:left;font-weight:600;padding:.4rem 0}
th,td{border-bottom:1px solid #bbb;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f0f0f0}
tr[data-sending=paused] td{background:#fde8e8}
tr[data-sending=warning] td{background:#fff4d6}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
"""

SCRIPT = """
(function () {
  var input = document.getElementById('filter');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#fleet tbody tr'));
  var shown = document.getElementById('shown');
  function apply() {
    var text = input.value.trim().toLowerCase();
    var count = 0;
    rows.forEach(function (row) {
      var match = !text || row.textContent.toLowerCase().indexOf(text) !== -1;
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = count + ' of ' + rows.length + ' rows shown';
  }
  function decoded(text) {
    // A fragment anyone can type: a malformed %-escape is taken as written, not thrown.
    try { return decodeURIComponent(text); } catch (error) { return text; }
  }
  function fromFragment() {
    var match = /(?:^|&)q=([^&]*)/.exec(location.hash.slice(1));
    if (match) { input.value = decoded(match[1].replace(/\\+/g, ' ')); }
    apply();
  }
  input.addEventListener('input', apply);
  window.addEventListener('hashchange', fromFragment);
  fromFragment();
}());
"""


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _counts(rows: list[StatusRow]) -> str:
    phases = Counter(str(r.phase) for r in rows)
    institutions = {r.institution for r in rows}
    paused = {r.institution for r in rows if r.health.sending == "paused"}
    items = [f'<li data-phase="{escape(phase)}"><strong>{count}</strong>at phase {escape(phase)}</li>'
             for phase, count in sorted(phases.items())]
    items.append(f'<li data-phase="paused"><strong>{len(paused)}</strong>institutions paused</li>')
    return (f'<p>{len(institutions)} institutions, {len(rows)} accounts.</p>'
            f'<ul class="counts" aria-label="Accounts per phase">{"".join(items)}</ul>')


def render(rows: Iterable[StatusRow], generated_at: str) -> str:
    rows = list(rows)
    head = "".join(f'<th scope="col">{escape(title)}</th>' for title, _ in COLUMNS)
    body = "".join(
        f'<tr data-institution="{escape(r.institution)}" data-sending="{escape(r.health.sending or "")}">'
        + "".join(f"<td>{escape(_cell(value(r)))}</td>" for _, value in COLUMNS) + "</tr>"
        for r in rows)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>tutor-mail status</title>
<style>{STYLE}</style>
</head>
<body>
<main>
<h1>tutor-mail: where every institution stands</h1>
<p>Generated {escape(generated_at)}.</p>
{_counts(rows)}
<p><label for="filter">Filter rows</label><input id="filter" type="search" autocomplete="off"
 aria-describedby="shown" aria-controls="fleet"></p>
<p id="shown" role="status" aria-live="polite"></p>
<table id="fleet">
<caption>One row per institution, company and account</caption>
<thead><tr>{head}</tr></thead>
<tbody>{body}</tbody>
</table>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""
