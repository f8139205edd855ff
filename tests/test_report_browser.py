"""report.html in a real headless Chromium: renders, works offline, no network, escapes names."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
from tiny_world import write_tiny_world

from optimizer import problem_from_tables, run
from optimizer.pipeline import Prepared, Run, solve_prepared
from optimizer.runio import write_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE = '<img src=x onerror="window.pwned=1">'


def _open(report: Path, screenshot: Path | None = None):
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        result = {"page_text": page.inner_text("body"),
                  "pwned": page.evaluate("window.pwned === 1"),
                  "circles": page.locator("#map circle").count(),
                  "images": page.locator("img.chart").count()}
        if result["circles"]:
            page.locator("#map circle").first.dispatch_event("click")
            result["details"] = page.inner_text("#details")
            page.locator('#layers input[value="obstacles"]').uncheck()
            result["obstacles_hidden"] = page.evaluate(
                "getComputedStyle(document.getElementById('obstacles')).display") == "none"
            page.mouse.move(600, 300)
            page.mouse.wheel(0, -400)
        header = page.locator("table.sortable th").first
        header.click()
        result["sorted"] = True
        if screenshot:
            page.screenshot(path=str(screenshot), full_page=False)
        browser.close()
    return result, errors, requests


def test_run_report_renders_offline(tmp_path):
    result = run(write_tiny_world(tmp_path / "world"))
    out = write_run(result, tmp_path / "run")
    seen, errors, requests = _open(out / "report.html", screenshot=tmp_path / "report.png")
    assert errors == []
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert seen["circles"] > 0 and "site_id" in seen["details"]
    assert seen["obstacles_hidden"]
    assert "APPROXIMATE" in seen["page_text"] or "Synthetic" in seen["page_text"]
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_html_in_a_site_name_is_shown_as_text(tmp_path):
    tables = {
        "nodes": pd.DataFrame({"node_id": ["s", "m", "t"]}),
        "edges": pd.DataFrame({"source": ["s", "m"], "target": ["m", "t"], "time_min": [1, 1]}),
        "obstacle_sites": pd.DataFrame({"site_id": [HOSTILE], "edges": ["s->m"],
                                        "country": ["A"]}),
        "obstacle_options": pd.DataFrame({"site_id": [HOSTILE], "type": ["<b>cut</b>"],
                                          "cost": [1], "delay_unobserved_min": [0],
                                          "delay_observed_min": [0], "blocks": [True]}),
        "axes": pd.DataFrame({"axis_id": ["a"], "origin": ["s"], "objective": ["t"],
                              "weight": [1]}),
        "budgets": pd.DataFrame({"holder": ["A"], "budget_eur": [5]}),
    }
    prepared = Prepared(config=None, inputs=None, graph=None,
                        problem=problem_from_tables(tables), sites=None,
                        graph_from_cache=False, source="<i>hostile</i> problem")
    result: Run = solve_prepared(prepared)
    assert list(result.plan.obstacles["site_id"]) == [HOSTILE]
    out = write_run(result, tmp_path / "run")
    seen, errors, _ = _open(out / "report.html")
    assert errors == [] and not seen["pwned"]
    assert HOSTILE in seen["page_text"] and "<b>cut</b>" in seen["page_text"]
    assert "<i>hostile</i> problem" in seen["page_text"]


def test_comparison_report_shows_charts(tmp_path):
    from optimizer.compare import run_comparison
    from optimizer.runio import write_comparison
    from optimizer.scenarios import load_scenarios

    write_tiny_world(tmp_path)
    (tmp_path / "s.toml").write_text(
        'base = "tiny.toml"\n[compare]\nmarginal = false\n[scenarios.a]\n'
        '[[sweeps]]\nname = "b"\nparameter = "budget_scale"\nvalues = [0.0, 0.5, 1.0]\n')
    scenario_set = load_scenarios(tmp_path / "s.toml")
    out = write_comparison(run_comparison(scenario_set), scenario_set, tmp_path / "cmp")
    seen, errors, requests = _open(out / "report.html")
    assert errors == [] and seen["images"] >= 2
    assert all(url.startswith(("file:", "data:")) for url in requests)


def test_large_numbers_are_written_in_full_and_sort_as_numbers(tmp_path):
    from optimizer.report.html import _page, table_html

    frame = pd.DataFrame({"holder": ["A", "B", "C"], "budget_eur": [1_500_000.0, 999.0, 20_000.0]})
    page = tmp_path / "t.html"
    page.write_text(_page("t", table_html(frame)), encoding="utf-8")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        tab = browser.new_page()
        tab.goto(page.as_uri())
        tab.locator("table.sortable th").nth(1).click()  # ascending
        shown = tab.locator("table.sortable tbody td:nth-child(2)").all_inner_texts()
        browser.close()
    # "1,500,000" read by parseFloat is 1: the sort must use the value, not the text
    assert shown == ["999", "20,000", "1,500,000"]
