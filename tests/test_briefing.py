"""The briefing: self-contained HTML checked in a real headless Chromium (console, images, the
key numbers against `Plan.results`), and its PDF of two to four pages."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

import capacity
from capacity.analysis.robust import robust
from capacity.analysis.sensitivity import tornado
from capacity.io.export.briefing import briefing_html, cheapest_output, find_browser

CHROMEDRIVER = shutil.which("chromedriver")
needs_browser = pytest.mark.skipif(
    find_browser() is None or CHROMEDRIVER is None,
    reason="no Chromium and chromedriver here (Debian: apt-get install chromium chromium-driver; "
           ".ci/run installs them)")


@pytest.fixture(scope="module")
def briefing(default_plan, default_scenario, tmp_path_factory):
    selector = cheapest_output(default_plan)
    page = briefing_html(default_plan, robust(default_scenario), tornado(default_scenario, selector), selector)
    path = tmp_path_factory.mktemp("briefing") / "brief.html"
    path.write_text(page, encoding="utf-8")
    return path, page


def test_the_page_needs_no_network(briefing):
    _, page = briefing
    assert not re.search(r"<(script|link|iframe)\b", page, re.I)
    sources = re.findall(r"""\bsrc=['"]([^'"]+)""", page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "url(" not in page


def test_it_has_the_parts_a_minister_reads(briefing, default_plan):
    _, page = briefing
    for heading in ("The question", "The options compared", "Key messages", "Key numbers", "Charts",
                    "The assumptions that decide the answer", "Limitations"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<figure>") == 5          # cost, MW, share, regret, tornado
    for option in default_plan.options:
        assert f"<b>{option}</b>" in page


@needs_browser
def test_the_briefing_in_a_headless_browser(briefing, default_plan):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    path, _ = briefing
    options = webdriver.ChromeOptions()
    options.binary_location = find_browser()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(path.as_uri())
        errors = [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        assert not errors, errors
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        assert len(images) == 5 and all(done and w > 100 and h > 100 for done, w, h in images), images
        cells = driver.find_elements(By.CSS_SELECTOR, "td[data-variable]")
        results = default_plan.results.set_index(["scenario", "region", "variable", "option", "year"])["value"]
        assert len(cells) == 7 * len(default_plan.options) * 2          # 7 figures x options x worldviews
        for cell in cells:
            key = tuple(cell.get_attribute(f"data-{k}") for k in ("scenario", "region", "variable", "option"))
            year = int(cell.get_attribute("data-year"))
            assert float(cell.get_attribute("data-value")) == results[(*key, year)]
            assert cell.text.strip()
        cost = next(c for c in cells if c.get_attribute("data-variable") == "Cost|Total")
        from capacity.analysis.messages import money
        assert cost.text.startswith(money(float(cost.get_attribute("data-value"))))
        messages = driver.find_elements(By.CSS_SELECTOR, "li[data-topic=cheapest]")
        assert len(messages) == 6
    finally:
        driver.quit()


@needs_browser
def test_report_writes_a_pdf_of_two_to_four_pages(tmp_path):
    out = tmp_path / "brief.pdf"
    done = subprocess.run([sys.executable, "-m", "capacity.cli", "report", "-o", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert 2 <= pages <= 4, pages


def test_report_refuses_other_suffixes_and_a_missing_pdf_engine(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from capacity.cli import main
    runner = CliRunner()
    done = runner.invoke(main, ["report", "-o", str(tmp_path / "brief.docx")])
    assert done.exit_code == 2 and ".html or .pdf" in done.output
    monkeypatch.setattr("capacity.io.export.briefing.find_browser", lambda: None)
    done = runner.invoke(main, ["report", "-o", str(tmp_path / "brief.pdf")])
    assert done.exit_code == 2 and "no Chromium" in done.output
    assert not (tmp_path / "brief.pdf").exists()


def test_ranges_appear_with_draws():
    plan = capacity.run(draws=20, seed=2)
    page = briefing_html(plan)
    assert "P5–P95" in page and "Probability of being the cheapest" in page
    assert page.count("<figure>") == 3
