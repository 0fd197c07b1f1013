"""``ltrr leaderboard --html`` opened in a real headless browser (Debian's chromium, through
Selenium): the rendered table's rows and values, the best entries, the inline plot, and
sorting by a click on a column header."""

from __future__ import annotations

import shutil
import tempfile

import pytest

from ltrr.cli import main
from ltrr.results.folder import load_folder
from ltrr.results.leaderboard import summary
from worlds import write_benchmark

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver",
                                reason="needs selenium (pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium "
           "chromium-driver; .ci/run installs them)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("page")
    out = tmp / "results"
    assert main(["run", str(write_benchmark(tmp)), "--out", str(out), "--quiet",
                 "--logs", "none"]) == 0
    assert main(["leaderboard", str(out), "--html"]) == 0
    return out


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="ltrr-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--window-size=1600,1200", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _column(driver, table: str, index: int) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.find_elements(By.TAG_NAME, "td")[index].text
            for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr")]


def test_page_is_self_contained(page):
    html = (page / "leaderboard.html").read_text()
    assert "http://" not in html and "https://" not in html
    assert 'src="data:image/png;base64,' in html


def test_rendered_table_sorting_and_plot(page, browser):
    from selenium.webdriver.common.by import By

    results = load_folder(page)
    table = summary(results.records, results.order).set_index("policy")
    browser.get((page / "leaderboard.html").as_uri())
    assert browser.find_element(By.TAG_NAME, "h1").text == "tiny leaderboard"
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#leaderboard th")]
    ndcg = headers.index("nDCG@10")
    labels = _column(browser, "leaderboard", 0)
    assert labels == ["single:lexical", "static_union", "linucb", "oracle"]
    for label, text in zip(labels, _column(browser, "leaderboard", ndcg)):
        mean, low, high = (table.loc[label, k] for k in ("ndcg@10", "ndcg@10_low",
                                                          "ndcg@10_high"))
        assert text == f"{mean:.4f} [{low:.4f}, {high:.4f}]"
    best = browser.find_elements(By.CSS_SELECTOR, f"#leaderboard td.best:nth-child({ndcg + 1})")
    top = table[table["policy_name"] != "oracle"]["ndcg@10"].idxmax()
    assert [cell.find_element(By.XPATH, "..").find_element(By.TAG_NAME, "td").text
            for cell in best] == [top]
    bold = best[0].find_element(By.TAG_NAME, "strong")
    assert bold.text == best[0].text and int(bold.value_of_css_property("font-weight")) >= 700

    header = browser.find_elements(By.CSS_SELECTOR, "#leaderboard th")[ndcg]
    header.click()
    ascending = list(table["ndcg@10"].sort_values().index)
    assert _column(browser, "leaderboard", 0) == ascending
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert _column(browser, "leaderboard", 0) == ascending[::-1]
    browser.find_elements(By.CSS_SELECTOR, "#leaderboard th")[0].click()  # text: by label
    assert _column(browser, "leaderboard", 0) == sorted(labels)

    tests = browser.find_elements(By.CSS_SELECTOR, "#tests tbody tr")
    assert len(tests) == 6  # best learner vs best single arm and union, 3 metrics each
    assert browser.execute_script(
        "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
