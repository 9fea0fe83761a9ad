"""Saved results and check expressions (issue 14): what `capacity diff` and `capacity check`
read. A results JSON goes through the input boundary (regular file, size limit, UTF-8) and
json's errors (syntax, NaN/Infinity literals, nesting too deep) become one located message."""

from __future__ import annotations

import json

import pytest
from hostile_support import invoke, refused


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from conftest import write_scenario
    folder = tmp_path_factory.mktemp("results")
    scenario = write_scenario(folder, first=2026, last=2027, name="res")
    path = folder / "good.json"
    assert invoke("run", str(scenario), "-o", str(path)).exit_code == 0
    return scenario, path


BROKEN = {
    "not JSON": (b"{results: [", "invalid JSON"),
    "truncated": (b'{"schema_version": 1, "results": [', "invalid JSON"),
    "a list": (b"[1, 2, 3]", "a JSON array"),
    "no results key": (b'{"a": 1}', "an object with keys"),
    "a NaN literal": (b'{"schema_version": 1, "results": [], "x": NaN}', "NaN"),
    "an Infinity literal": (b'{"schema_version": 1, "results": [{"value": Infinity}]}', "Infinity"),
    "nested 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),
    "UTF-16": ('{"results": []}'.encode("utf-16"), "UTF-16"),
    "binary": (bytes(range(256)), "binary data"),
    "a control character": (b'{"results": [], "x": "\x01"}', "control character"),
    "an empty file": (b"", "invalid JSON"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_results_json_is_refused_by_diff(saved, tmp_path, case):
    scenario, good = saved
    data, word = BROKEN[case]
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    refused(invoke("diff", str(good), str(path)), "bad.json", word)


@pytest.mark.parametrize("path", ["/dev/zero", "FOLDER", "missing.json"])
def test_a_results_path_that_is_not_a_file_is_refused(saved, tmp_path, path):
    scenario, good = saved
    if path == "FOLDER":
        (tmp_path / "f.json").mkdir()
        path = str(tmp_path / "f.json")
    refused(invoke("diff", str(good), path), path.split("/")[-1], "")


def test_a_wrong_schema_version_is_refused(saved, tmp_path):
    scenario, good = saved
    document = json.loads(good.read_text())
    document["schema_version"] = 999
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document))
    refused(invoke("diff", str(good), str(path)), "old.json", "schema_version")


@pytest.mark.parametrize("expr", [
    "Cost|Total[frontier-api, 2027 < 5", "Cost|Total[frontier-api, 2027] <", "Nope|Var[frontier-api, 2027] < 1",
    "Cost|Total[no-such-option, 2027] < 1 USD/yr", "Cost|Total[frontier-api, 2027] < 1 parsecs",
    "Cost|Total[frontier-api, 2027] < 1e400 USD/yr", "Cost|Total[frontier-api, 2027] < 0,5 USD/yr",
    "", "cheapest(2027) == ", "Cost|Total[frontier-api, 1999] < 1 USD/yr",
])
def test_a_malformed_check_expression_is_refused(saved, expr):
    scenario, good = saved
    result = invoke("check", str(scenario), "--require", expr)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith(("capacity: error:", "Error:"))]) == 1
