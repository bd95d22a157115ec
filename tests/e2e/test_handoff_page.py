"""The handoff page as a person sees it, in headless Chromium (the status page test's helper): at 1024 px
no horizontal scroll, every field of the fill-in tables on screen, printed on A4, and an account not to
configure yet in its own section, not in the fill-in tables."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from tutormail.cenario2.dmarc import judge
from tutormail.plan.build import plan_for
from tutormail.plan.loader import load_catalog
from tutormail.tutor_setup.handoff import render_html

from tests.conftest import INSTITUTIONS
from tests.e2e.test_status_page import chromium

# Writes what the layout measured into the DOM that --dump-dom prints.
MEASURE = ('<script>window.addEventListener("load",()=>{const d=document.documentElement;'
           'let cut=0;for(const c of document.querySelectorAll("td,th")){const r=c.getBoundingClientRect();'
           'if(r.right>d.clientWidth+1)cut++;}'
           'document.body.setAttribute("data-measured",d.scrollWidth+" "+d.clientWidth+" "+cut);});</script>')


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    plan = plan_for(load_catalog(INSTITUTIONS), "instituicao-xy")
    verdicts = {"colegioxy.com.br": judge("colegioxy.com.br", ["v=DMARC1; p=reject; rua=mailto:d@colegioxy.com.br"])}
    path = tmp_path_factory.mktemp("handoff") / "instituicao-xy.html"
    path.write_text(render_html(plan, verdicts), encoding="utf-8")
    return path


def test_at_1024_px_nothing_scrolls_sideways_and_no_cell_is_cut(page, tmp_path):
    measured = page.with_name("measured.html")
    measured.write_text(page.read_text().replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium("--window-size=1024,768", "--virtual-time-budget=3000", "--dump-dom", measured.as_uri(),
                   tmp_path=tmp_path)
    scroll, client, cut = map(int, re.search(r'data-measured="(\d+) (\d+) (\d+)"', dom).groups())
    assert scroll <= client and cut == 0, (scroll, client, cut)
    assert "SSL" in dom and "TLS" in dom


def test_a_blocked_account_is_in_its_own_section_not_in_the_fill_in_tables(page):
    text = page.read_text()
    tables, _, section = text.partition("<h2>Contas que ainda não devem ser configuradas</h2>")
    assert section and "contato@colegioxy.com.br" in section and "contato@colegioxy.com.br" not in tables
    assert tables.count('<table class="fields">') == 4  # Instituição XY's three accounts and Colégio XY's news


def test_it_prints_on_a4(page, tmp_path):
    pdf = tmp_path / "handoff.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(), tmp_path=tmp_path)
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # the MediaBox of every page: A4 is 595 x 842 points (Chromium's default is Letter, 612 x 792)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes and all(round(float(w)) == 595 and round(float(h)) in (841, 842) for w, h in boxes), boxes
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm:  # the pages as images, kept beside the PDF for a person to look at
        subprocess.run([pdftoppm, "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
        assert sorted(tmp_path.glob("page*.png"))
