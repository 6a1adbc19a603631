"""The playground as a person uses it, in headless Chromium (Debian's ``chromium`` package, which
`.ci/run` installs), driven by Playwright for Python pointed at that browser (Playwright's own
browser downloads are never used).

A real server on loopback serves the page.  The test opens the household exit pack, sees the
example household pass, types a raised income threshold into the editor, sees the explanation
change to a failing income criterion, runs the pack's cases and sees some fail; then switches to
Chinese and sees the same in Chinese; saves the state to a file and loads it back into a fresh
page; types a misspelt key and sees it underlined within a second; and is offered the pack
format's keys as it types one.  Screenshots are kept in the test's folder, whose path the test
prints.  Without Chromium or Playwright the test is skipped, except under CI (``CI=true``),
where it fails."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from unit.serve._playground import EXIT_PACK, RAISED, THRESHOLD, playground_server


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        if _in_ci():
            pytest.fail("CI needs Chromium: .ci/run installs Debian's chromium package")
        pytest.skip("needs Chromium (Debian's chromium package) to drive the playground")
    return found


def _sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if _in_ci():
            pytest.fail("CI needs Playwright for Python: it is in the `test` extra")
        pytest.skip("needs Playwright for Python (the `test` extra)")
    return sync_playwright


def _type_after(page: Any, needle: str, typed: str) -> float:
    """Put the cursor after `needle` in the editor (as a click would) and type `typed` key by key;
    the moment of the last keystroke."""
    at = page.evaluate(
        "needle => { const e = window.playground.editor, i = e.text().indexOf(needle);"
        " if (i < 0) return -1; e.view.focus();"
        " e.view.dispatch({selection: {anchor: i + needle.length}, scrollIntoView: true}); return i; }",
        needle,
    )
    assert at >= 0, needle
    page.keyboard.type(typed, delay=15)
    return time.monotonic()


def _wait_verdict(page: Any, verdict: str) -> None:
    page.wait_for_function(
        f"document.getElementById('verdict').dataset.verdict === {verdict!r}", timeout=15000
    )


@pytest.mark.slow  # a browser session: Chromium's CPU more than the test's
def test_an_officer_edits_a_threshold_and_sees_cases_fail_and_the_explanation_change(tmp_path: Path) -> None:
    chromium = _chromium()
    sync_playwright = _sync_playwright()
    print(f"playground screenshots: {tmp_path}")
    with playground_server() as server, sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))

            page.goto(f"{server.base}/playground/?lang=en&pack={EXIT_PACK}")
            page.wait_for_selector("body[data-ready=true]", timeout=20000)
            assert page.input_value("#pack") == EXIT_PACK
            page.select_option("#case-select", label=_case_label(page, "all six indicators passes"))
            _wait_verdict(page, "pass")
            before = page.inner_text("#explanation")
            assert "exit.income" in before
            assert "is above the standard" in before
            assert page.inner_text("#check-status") == "the pack checks"
            page.screenshot(path=str(tmp_path / "1-en-as-served.png"))

            # the threshold raised by typing: the decision follows without another click
            _type_after(page, THRESHOLD, " + 2000")
            _wait_verdict(page, "fail")
            after = page.inner_text("#explanation")
            assert after != before
            assert "is not above the standard" in after
            assert "exit.income" in after
            assert page.inner_text("#verdict") == "FAIL"

            page.click("#run-cases")
            page.wait_for_selector("#cases-table tr.failed", timeout=20000)
            summary = page.inner_text("#cases-summary")
            assert "failed" in summary
            assert int(page.get_attribute("#cases-summary", "data-failed") or 0) > 0
            assert "expected" in page.inner_text("#cases-table tr.failed pre")
            page.screenshot(path=str(tmp_path / "2-en-threshold-raised.png"))

            # the same in Chinese
            page.select_option("#lang", "zh")
            page.wait_for_function(
                "document.getElementById('verdict').textContent === '不通过'", timeout=15000
            )
            page.wait_for_function(
                "document.getElementById('explanation').textContent.includes('未超过标准')", timeout=15000
            )
            page.wait_for_function(
                "document.getElementById('cases-summary').textContent.includes('个不通过')", timeout=20000
            )
            assert "预期" in page.inner_text("#cases-table tr.failed pre")
            assert page.inner_text("#check-status") == "检查通过"
            page.screenshot(path=str(tmp_path / "3-zh-threshold-raised.png"))

            # saved to a file, loaded into a fresh page: the edit and the household come back
            with page.expect_download() as saving:
                page.click("#save")
            saved = tmp_path / "playground-state.json"
            saving.value.save_as(saved)
            fresh = context.new_page()
            fresh.goto(f"{server.base}/playground/?lang=en")
            fresh.wait_for_selector("body[data-ready=true]", timeout=20000)
            fresh.set_input_files("#load", str(saved))
            fresh.wait_for_function(f"window.playground.editor.text().includes({RAISED!r})", timeout=15000)
            _wait_verdict(fresh, "fail")
            assert fresh.input_value("#lang") == "zh"  # the saved language
            fresh.close()

            # a misspelt key is underlined within a second of the last keystroke
            pressed = _type_after(page, "\ncriteria", "x")
            page.wait_for_selector(".cm-lintRange-error", timeout=5000)
            assert time.monotonic() - pressed < 1.0
            assert "criteriax" in page.inner_text("#diagnostics")
            page.screenshot(path=str(tmp_path / "4-zh-misspelt-key.png"))

            # the keys the pack format allows, completed where the cursor is
            _type_after(page, "\nformat: 1", "\nvalid_")
            page.wait_for_selector(".cm-tooltip-autocomplete", timeout=5000)
            offered = page.inner_text(".cm-tooltip-autocomplete")
            assert "valid_to" in offered
            assert "valid_from" in offered

            assert not errors, errors
            assert all(
                url.startswith(server.base) or url.startswith(("data:", "blob:")) for url in requested
            ), requested
        finally:
            browser.close()
    for shot in tmp_path.glob("*.png"):
        assert shot.read_bytes().startswith(b"\x89PNG")
        assert shot.stat().st_size > 20_000


def _case_label(page: Any, words: str) -> str:
    labels: list[str] = page.eval_on_selector_all(
        "#case-select option", "options => options.map(o => o.label)"
    )
    return next(label for label in labels if words in label)
