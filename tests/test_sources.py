"""The library's sources: every row marked primary, secondary or estimate; no row citing a
private, personal or search-engine page; weak sources rare and each explained
(capacity/data/source-policy.csv, capacity.data.sources)."""

import csv

import pytest

from capacity.data.catalog import QUALITIES
from capacity.data.paths import assumptions_dir
from capacity.data.sources import POLICY_PATH, audit, judge_url, load_policy, quality_counts

WEAK_SHARE_LIMIT = 0.05
"""Rows citing a weak source, at most, as a share of all rows (issue 10)."""

AUDIT = audit()


@pytest.mark.parametrize("url, verdict", [
    ("http://localhost:8000/prices", "denied"),
    ("http://192.168.1.20/wiki/H100", "denied"),
    ("https://10.0.0.7/report.pdf", "denied"),
    ("https://notes.tail4f2a.ts.net/gpu-prices", "denied"),
    ("http://nas.local/share/spec.pdf", "denied"),
    ("https://staging.example.com/press/2025", "denied"),
    ("https://staging4.utilityweek.co.uk/article", "denied"),
    ("https://businessplus-ie-preprod.go-vip.net/news/x", "denied"),
    ("https://dev.to/someone/a-post", "weak"),
    ("https://www.google.com/search?q=h100+price", "denied"),
    ("https://www.bing.com/search?q=h100", "denied"),
    ("https://aiwiki.ai/wiki/nvidia_h100", "weak"),
    ("https://www.nvidia.com/en-us/data-center/h100/", "ok"),
    ("https://ec.europa.eu/eurostat/databrowser/view/nrg_pc_205/default/table", "ok"),
    ("https://googleblog.com/search-central", "ok"),   # a domain merely ending like a listed one
])
def test_the_policy_judges_a_url(url, verdict):
    assert judge_url(url, load_policy())[0] == verdict


def test_every_policy_entry_has_a_verdict_and_a_reason():
    with POLICY_PATH.open(newline="", encoding="utf-8") as handle:
        entries = list(csv.DictReader(handle))
    assert entries
    for entry in entries:
        assert entry["verdict"] in ("denied", "weak"), entry
        assert len(entry["reason"]) >= 10, entry
    domains = [entry["domain"] for entry in entries]
    assert len(domains) == len(set(domains))


def test_no_row_cites_a_private_personal_or_search_page():
    denied = AUDIT[AUDIT["verdict"] == "denied"]
    assert denied.empty, denied[["file", "line", "url", "reason"]].to_string()


def test_weak_sources_are_rare_and_each_is_explained():
    per_row = AUDIT.groupby(["file", "line"]).agg(
        weak=("verdict", lambda v: bool((v == "weak").any())), explained=("explained", "first"))
    weak = per_row[per_row["weak"]]
    assert len(weak) / len(per_row) < WEAK_SHARE_LIMIT, f"{len(weak)} of {len(per_row)} rows"
    unexplained = weak[~weak["explained"]]
    assert unexplained.empty, unexplained.index.tolist()


def test_every_row_of_every_table_has_a_quality_mark():
    marks = AUDIT.drop_duplicates(["file", "line"])["quality"]
    assert set(marks) <= set(QUALITIES), sorted(set(marks) - set(QUALITIES))


def test_every_estimate_carries_its_derivation():
    for path in sorted(assumptions_dir().glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for line, record in enumerate(csv.DictReader(handle), start=2):
                if record.get("quality") == "estimate":
                    notes = record.get("notes", "")
                    assert notes.lower().startswith("estimate") and len(notes) >= 40, (path.name, line)
                    # a derivation shows its figures; a judgment (a worldview's frontier share)
                    # says so and gives its reasons
                    judged = notes.lower().startswith("estimate (judgment)")
                    assert judged or any(ch.isdigit() for ch in notes), (path.name, line, "no figure")


def test_quality_counts_add_up():
    counts = quality_counts()
    assert (counts.loc["all", ["primary", "secondary", "estimate"]].sum()
            == counts.loc["all", "rows"] == AUDIT.drop_duplicates(["file", "line"]).shape[0])
