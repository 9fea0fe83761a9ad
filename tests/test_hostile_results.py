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


# --- more broken results documents (each names the file; the record and key when one is bad) -----

def _document(good, change=None, **record):
    document = json.loads(good.read_text())
    if record:
        document["results"][0] = {**document["results"][0], **record}
    if change:
        change(document)
    return document


MORE = {   # case -> (bytes or a callable of the good document, where suffix, word)
    "Latin-1 bytes": (lambda good: good.read_bytes().replace(b'"NLD"', b'"NL\xc9"', 1), "bad.json", "not UTF-8"),
    "a JSON string": (b'"results"', "bad.json", "a JSON string"),
    "a JSON number": (b"42", "bad.json", "a JSON number"),
    "a JSON null": (b"null", "bad.json", "a JSON null"),
    "results an object": (b'{"schema_version": 1, "results": {}}', "bad.json", "results: found a JSON object"),
    "a record a number": (b'{"schema_version": 1, "results": [1]}', "bad.json", "results[0]"),
    "a record missing keys": (b'{"schema_version": 1, "results": [{"scenario": "x"}]}', "bad.json", "results[0]"),
    "no schema_version": (b'{"results": []}', "bad.json", "schema_version"),
    "schema_version as text": (b'{"schema_version": "1", "results": []}', "bad.json", "schema_version"),
    "a -Infinity literal": (b'{"schema_version": 1, "results": [], "x": -Infinity}', "bad.json", "-Infinity"),
    "a number beyond float range": (lambda good: json.dumps(_document(good, value=1.5)).replace("1.5", "1e400", 1)
                                    .encode(), "bad.json", "beyond the range of a float"),
    "a 400-digit integer value": (lambda good: json.dumps(_document(good, value=10 ** 400)).encode(),
                                  "bad.json", "results[0].value"),
    "a 5000-digit integer": (lambda good: json.dumps(_document(good, value=1)).replace('"value": 1', '"value": '
                             + "9" * 5000, 1).encode(), "bad.json", "digits"),
    "a year of 31 digits": (lambda good: json.dumps(_document(good, year=10 ** 30)).encode(), "bad.json",
                            "results[0].year"),
    "a year as text": (lambda good: json.dumps(_document(good, year="2027")).encode(), "bad.json", "results[0].year"),
    "a value as text": (lambda good: json.dumps(_document(good, value="5")).encode(), "bad.json", "results[0].value"),
    "a value true": (lambda good: json.dumps(_document(good, value=True)).encode(), "bad.json", "results[0].value"),
    "a value that is a list": (lambda good: json.dumps(_document(good, value=[1, 2])).encode(), "bad.json",
                               "results[0].value"),
    "a region null": (lambda good: json.dumps(_document(good, region=None)).encode(), "bad.json", "results[0].region"),
    "a region with an escape sequence": (lambda good: json.dumps(_document(good, region="N\x1b[2JL")).encode(),
                                         "bad.json", "U+001B"),
    "a variable of 200,000 characters": (lambda good: json.dumps(_document(good, variable="x" * 200_000)).encode(),
                                         "bad.json", "200,000 characters"),
    "a key twice": (lambda good: good.read_bytes().replace(b'"results":', b'"results": [], "results":', 1),
                    "bad.json", "twice"),
    "objects nested 100,000 deep": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "bad.json", "nested too deep"),
    "mixed nesting 50,000 deep": (b'[{"a":' * 50_000 + b"1" + b"}]" * 50_000, "bad.json", "nested too deep"),
    "a NUL byte": (b'{"schema_version": 1, "results": [], "x": "\x00"}', "bad.json", "NUL byte"),
}


@pytest.mark.parametrize("case", list(MORE))
def test_a_broken_results_document_is_refused_naming_the_file(saved, tmp_path, case):
    scenario, good = saved
    data, where, word = MORE[case]
    path = tmp_path / "bad.json"
    path.write_bytes(data(good) if callable(data) else data)
    message = refused(invoke("diff", str(good), str(path)), where, word)
    assert len(message) < 3_000


@pytest.mark.parametrize("side", ["before", "after"])
def test_a_broken_results_document_is_refused_on_either_side(saved, tmp_path, side):
    scenario, good = saved
    path = tmp_path / "bad.json"
    path.write_bytes(b"[1, 2, 3]")
    args = (str(path), str(good)) if side == "before" else (str(good), str(path))
    refused(invoke("diff", *args), "bad.json", "a JSON array")


def test_a_utf8_bom_results_document_is_read(saved, tmp_path):
    scenario, good = saved
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + good.read_bytes())
    result = invoke("diff", str(good), str(path))
    assert result.exit_code == 0 and "No value changed" in result.output, result.output


@pytest.mark.parametrize("path", ["/dev/urandom", "FIFO", "SPARSE"])
def test_a_results_path_that_is_a_device_a_pipe_or_too_big_is_refused_at_once(saved, tmp_path, path):
    import os
    import time
    scenario, good = saved
    if path == "FIFO":
        path = str(tmp_path / "pipe.json")
        os.mkfifo(path)
    elif path == "SPARSE":
        path = str(tmp_path / "huge.json")
        with open(path, "wb") as handle:
            handle.truncate(600 * 1024 * 1024)
    started = time.perf_counter()
    refused(invoke("diff", str(good), path), path.split("/")[-1], "")
    assert time.perf_counter() - started < 10


# --- check expressions and --junit ------------------------------------------------------------------

EXPRESSIONS = {   # expression -> a word of the refusal
    "Cost|Total[frontier-api, 2027] < nan USD/yr": "NUMBER",
    "Cost|Total[frontier-api, 2027] < inf USD/yr": "NUMBER",
    "Cost|Total[frontier-api, 2027] <> 5": "",
    "[[[[": "no VARIABLE[...] selector",
    "]": "no VARIABLE[...] selector",
    "Cost|Total[frontier-api, 2027]] < 1 USD/yr": "",
    "Cost|Total[[frontier-api, 2027] < 1 USD/yr": "",
    "Cost|Total[frontier-api, 2027, XXX] < 1 USD/yr": "region 'XXX'",
    "Cost|Total[frontier-api, 2027, NLD, nope] < 1 USD/yr": "scenario 'nope'",
    "Cost|Total[frontier-api, 2027, p95] < 1 USD/yr": "without draws",
    "Cost|Total[frontier-api, 2027, p42] < 1 USD/yr": "quantile",
    "Cost|Total[frontier-api, 99999999999999999999] < 1 USD/yr": "YEAR",
    "Cost|Total[frontier-api, 2027] < 1 USD/yr/": "not a unit",
    "Cost|Total[frontier-api, 2027] < 1 m": "same dimension",
    "Cost|Total[frontier-api, 2027] < 1 __import__('os')": "not a unit",
    "Cost|Total[frontier-api, 2027] < 1\x1b[31m USD/yr": "U+001B",
    "Cost|Total[frontier-api, 2027] < " + "1" * 20_000: "characters",
    "cheapest(2027) == nope": "option 'nope'",
    "cheapest(abc) == frontier-api": "YEAR",
    "cheapest(2027": "not closed",
    "cheapest(2027)": "operator",
    "cheapest(2027) < frontier-api": "'cheapest(YEAR) == OPTION'",
    "   ": "an empty expression",
}


@pytest.mark.parametrize("expr", list(EXPRESSIONS))
def test_a_malformed_check_expression_is_refused_naming_the_check(saved, tmp_path, expr):
    scenario, good = saved
    junit = tmp_path / "checks.xml"
    junit.write_bytes(b"<testsuite/>")
    message = refused(invoke("check", str(scenario), "--require", expr, "--junit", str(junit)), "check", EXPRESSIONS[expr],
                      junit, b"<testsuite/>", folder=tmp_path)
    assert len(message) < 3_000


def test_a_malformed_check_in_the_scenario_file_names_its_line(saved, tmp_path):
    scenario, good = saved
    path = tmp_path / "s.yaml"
    text = scenario.read_text() + 'checks:\n  - "Cost|Total[frontier-api, 2027] < 1 parsecs"\n'
    path.write_text(text)
    refused(invoke("check", str(path)), f"s.yaml:{len(text.splitlines())}", "same dimension")


@pytest.mark.parametrize("target", ["FOLDER", "MISSING_DIR", "SCENARIO", "/dev/full", "/dev/null", ""])
def test_a_junit_path_that_cannot_be_written_is_refused(saved, tmp_path, target):
    scenario, good = saved
    before = scenario.read_bytes()
    where = {"FOLDER": str(tmp_path), "MISSING_DIR": str(tmp_path / "no" / "x.xml"),
             "SCENARIO": str(scenario)}.get(target, target)
    refused(invoke("check", str(scenario), "--junit", where), "cannot write", "")
    assert scenario.read_bytes() == before and not (tmp_path / "no").exists()
