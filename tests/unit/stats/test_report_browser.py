"""The wall chart in a real browser: headless Chromium (Debian's ``chromium`` package; `.ci/run`
installs it) opens the page, lays out every chart, logs nothing to its console, and prints it
to PDF on A3 landscape, one page for the overview and one per county.  The screenshot, the PDF
and the page are kept in the test's folder, whose path the test prints.

Chromium is driven by its command line, once: ``--dump-dom`` gives the page after a small probe
script (added to a copy of the page, not to the product) wrote what the browser laid out;
``--print-to-pdf`` and ``--screenshot`` in the same run.  Without Chromium the test is skipped,
except under CI (``CI=true``), where it fails."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gspolicy.stats.report import render_report, wall_chart
from unit.stats._wall import QUARTER, areas_of, slice_registry

from support.bundled import shared_policies

# what the browser laid out: per chart, its section, its size and each bar's drawn width and title
PROBE = """<script>
document.body.dataset.probe = JSON.stringify([...document.querySelectorAll("figure.chart")].map(f => {
  const svg = f.querySelector("svg"), box = svg.getBoundingClientRect();
  return {section: f.closest("section").id || "overview", chart: f.dataset.chart,
          width: box.width, height: box.height,
          bars: [...svg.querySelectorAll("rect.bar")].map(r => [r.getBBox().width, r.textContent])};
}));
</script>"""

A3_LANDSCAPE = (1190.55, 841.89)  # points


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}:
            pytest.fail("CI needs Chromium: .ci/run installs Debian's chromium package")
        pytest.skip("needs Chromium (Debian's chromium package) to open the wall chart")
    return found


@pytest.mark.slow  # a browser run: about 1.7 CPU-s here, most of it Chromium's
def test_the_wall_chart_draws_and_prints_one_county_per_a3_page(tmp_path: Path) -> None:
    chromium = _chromium()
    files = slice_registry(tmp_path, counties=3, per_county=60)
    chart = wall_chart(shared_policies().policy_set, [files["households"]], QUARTER, areas=areas_of(files))
    page = render_report(chart, "en")
    (tmp_path / "report.html").write_text(page, "utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), "utf-8")
    pdf, png = tmp_path / "report.pdf", tmp_path / "report.png"
    run = subprocess.run(
        [
            chromium,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1600,1100",
            f"--print-to-pdf={pdf}",
            f"--screenshot={png}",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(f"wall chart artefacts (page, PDF, screenshot): {tmp_path}")
    assert run.returncode == 0, run.stderr
    assert not [line for line in run.stderr.splitlines() if ":CONSOLE" in line], run.stderr

    found = re.search(r'data-probe="([^"]*)"', run.stdout)
    assert found is not None, run.stdout[:2000]
    drawn = json.loads(html.unescape(found.group(1)))
    sections = {"overview", *(f"county-{c.code}" for c in chart.counties)}
    assert {d["section"] for d in drawn} == sections
    for d in drawn:
        assert d["width"] > 100, d
        assert d["height"] > 20, d
        for width, title in d["bars"]:
            count = int(title.rpartition(": ")[2])
            assert (width > 0) == (count > 0), (d["section"], d["chart"], title, width)
    for county in chart.counties:
        mine = {d["chart"]: d["bars"] for d in drawn if d["section"] == f"county-{county.code}"}
        assert len(mine["batches"]) == len(county.batches) > 0  # one bar per batch
        assert len(mine["progress"]) == 2 * len(set(county.planned) | set(county.exited))  # planned and done
        assert len(mine["expiries"]) == len(county.expiries)

    printed = pdf.read_bytes()
    # one page for the overview and one per county: no county runs over its page
    assert len(re.findall(rb"/Type\s*/Page\b", printed)) == 1 + len(chart.counties)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", printed)
    assert boxes
    assert all(abs(float(w) - A3_LANDSCAPE[0]) < 2 and abs(float(h) - A3_LANDSCAPE[1]) < 2 for w, h in boxes)
    assert png.read_bytes().startswith(b"\x89PNG")
    assert png.stat().st_size > 20_000  # charts and text, not a blank page
