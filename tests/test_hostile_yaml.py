"""Hostile and broken inputs (issue 14), family: YAML. Tags, alias bombs, deep nesting, recursive
aliases, duplicate and complex keys, bad merges, broken syntax, documents that are not one
mapping, and --set values written as YAML: each refused with one located message (exit 2, no
traceback, nothing written) before the model runs. The standard merge key (``<<: *anchor``) is
read, and gives the same scenario as the file written out."""

from __future__ import annotations

import time

import pytest
from hostile_support import invoke, refused

import capacity
from capacity.data.paths import assumptions_dir

NETHERLANDS = assumptions_dir() / "scenarios" / "netherlands.yaml"
SOURCE = NETHERLANDS.read_text(encoding="utf-8")


def _yaml(tmp_path, text, name="s.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(text: str, start: str, nth: int = 1) -> int:
    return [i for i, line in enumerate(text.splitlines(), start=1) if line.lstrip().startswith(start)][nth - 1]


def _run(tmp_path, text, *extra, before: bytes | None = None):
    out = tmp_path / "p.csv"
    if before is not None:
        out.write_bytes(before)
    return invoke("run", str(_yaml(tmp_path, text)), *extra, "-o", str(out)), out


def _edit(old: str, new: str) -> str:
    edited = SOURCE.replace(old, new, 1)
    assert edited != SOURCE, old
    return edited


# --- tags ----------------------------------------------------------------------------------------

TAGS = {
    "python object": "!!python/object:os.system {}",
    "python object apply": "!!python/object/apply:os.system ['echo pwned']",
    "python object new": "!!python/object/new:subprocess.Popen [['ls']]",
    "python name": "!!python/name:os.system",
    "python module": "!!python/module:os",
    "local tag": "!foo 3",
    "verbatim tag": "!<tag:example.com,2000:x> 3",
    "binary": "!!binary aGVsbG8=",
    "set": "!!set {a, b}",
    "omap": "!!omap [a: 1, b: 2]",
    "pairs": "!!pairs [a: 1]",
}


@pytest.mark.parametrize("case", list(TAGS))
def test_a_yaml_tag_on_a_value_is_refused_with_its_line(tmp_path, case):
    text = _edit("  NLD: {}", f"  NLD:\n    population: {TAGS[case]}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'population:')}", "YAML tag", out)


@pytest.mark.parametrize("tag", ["!foo", "!!python/name:os.system", "!!binary"])
def test_a_yaml_tag_on_a_key_is_refused_with_its_line(tmp_path, tag):
    text = _edit("  drafting: {}", f"  {tag} drafting: {{}}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, tag)}", "on a key", out)


def test_a_tag_on_the_whole_document_is_refused(tmp_path):
    result, out = _run(tmp_path, "--- !!python/object:os.system\n" + SOURCE.split("schema_version:", 1)[1].join(
        ["schema_version:", ""]))
    refused(result, "s.yaml:1", "YAML tag", out)


# --- alias bombs and recursive aliases -------------------------------------------------------------

def _laughs(levels: int, width: int, flow_mapping: bool = False) -> str:
    if flow_mapping:
        lines = ["a0: &a0 {x: lol}"]
        lines += [f"a{i}: &a{i} {{" + ", ".join(f"k{j}: *a{i - 1}" for j in range(width)) + "}"
                  for i in range(1, levels)]
    else:
        lines = ["a0: &a0 [" + ",".join(["lol"] * width) + "]"]
        lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


BOMBS = {
    "billion laughs, 10 levels of 9": _laughs(10, 9),
    "doubling, 40 levels of 2": _laughs(40, 2),
    "mappings, 12 levels of 6": _laughs(12, 6, flow_mapping=True),
    "wide, 3 levels of 1000": _laughs(3, 1000),
    "merge keys, 25 levels": "a0: &a0 {x: 1}\n" + "".join(
        f"a{i}: &a{i} {{k: *a{i - 1}, j: *a{i - 1}, <<: *a{i - 1}}}\n" for i in range(1, 25)),
    "inside a scenario's use cases": SOURCE.replace("use_cases:", _laughs(9, 9) + "use_cases:", 1),
}


@pytest.mark.parametrize("case", list(BOMBS))
def test_an_alias_bomb_is_refused_at_once(tmp_path, case):
    assert len(BOMBS[case]) < 20_000
    started = time.perf_counter()
    result, out = _run(tmp_path, BOMBS[case])
    refused(result, "s.yaml:", "", out)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a {b: [1, {c: *a}]}\n",
                                  "regions: &r {NLD: *r}\n"])
def test_a_recursive_alias_is_refused(tmp_path, text):
    result, out = _run(tmp_path, text)
    refused(result, "s.yaml:1", "through aliases", out)


def test_an_undefined_alias_is_refused_with_its_line(tmp_path):
    text = _edit("  NLD: {}", "  NLD: *nowhere")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'NLD:')}", "invalid YAML", out)


# --- deep nesting ------------------------------------------------------------------------------------

NESTING = {
    "flow lists, 5000 deep": "horizon: " + "[" * 5000 + "]" * 5000 + "\n",
    "flow mappings, 5000 deep": "horizon: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "block lists, 5000 deep": "- " * 5000 + "x\n",
    "block mappings, 200 deep": "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "x\n",
    "mixed, 2000 deep": "a: " + "[{b: " * 1000 + "1" + "}]" * 1000 + "\n",
    "33 levels (just over)": "a: " + "[" * 33 + "]" * 33 + "\n",
}


@pytest.mark.parametrize("case", list(NESTING))
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, case):
    started = time.perf_counter()
    result, out = _run(tmp_path, NESTING[case])
    refused(result, "s.yaml:", "nested more than", out)
    assert time.perf_counter() - started < 10


# --- duplicate and complex keys -------------------------------------------------------------------

def test_a_duplicate_top_level_key_names_both_lines(tmp_path):
    text = SOURCE + "\nname: again\n"
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'name:', 2)}", f"first on line {_line_of(text, 'name:')}", out)


def test_a_duplicate_nested_key_names_both_lines(tmp_path):
    text = _edit("  first_year: 2026\n", "  first_year: 2026\n  last_year: 2030\n  first_year: 2027\n")
    result, out = _run(tmp_path, text)
    message = refused(result, f"s.yaml:{_line_of(text, 'first_year:', 2)}",
                      f"first on line {_line_of(text, 'first_year:')}", out)
    assert "horizon.first_year" in message


def test_a_duplicate_key_in_a_flow_mapping_is_refused(tmp_path):
    text = _edit("  NLD: {}", "  NLD: {population: 1e7, population: 2e7}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'NLD:')}", "a second time", out)


def test_a_duplicate_variant_names_both_lines(tmp_path):
    text = SOURCE + "  realist:\n    worldview: maximalist\n"
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'realist:', 2)}", f"first on line {_line_of(text, 'realist:')}", out)


@pytest.mark.parametrize("key", ["? [a, b]\n  : 1", "? {a: 1}\n  : 1", "[NLD]: {}", "{x: 1}: {}"])
def test_a_complex_key_is_refused(tmp_path, key):
    text = _edit("  NLD: {}", f"  NLD: {{}}\n  {key}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'NLD:') + 1}", "a list or mapping", out)


@pytest.mark.parametrize("key", ["NO", "yes", "off", "~", "null"])
def test_a_key_yaml_reads_as_a_boolean_or_null_is_refused_with_a_hint(tmp_path, key):
    text = _edit("  NLD: {}", f"  NLD: {{}}\n  {key}: {{}}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, key + ':')}", "in quotes", out)


@pytest.mark.parametrize("value, word", [("017", "octal"), ("1:30", "base-60"), ("190:20:30.5", "base-60")])
def test_a_number_yaml_1_1_misreads_is_refused(tmp_path, value, word):
    text = _edit("  NLD: {}", f"  NLD:\n    population: {value}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'population:')}", word, out)


@pytest.mark.parametrize("value", ["[a, b]", "{a: 1}", "~", "true"])
def test_a_scenario_name_that_is_not_text_is_refused(tmp_path, value):
    text = _edit("name: netherlands", f"name: {value}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'name:')}", "a name as text", out)


# --- merge keys ------------------------------------------------------------------------------------

def _use_cases(scenario):
    return {name: case.use_cases for name, case in scenario.cases.items()}


def test_variants_sharing_an_anchored_mapping_are_read_as_written_out(tmp_path):
    variants = SOURCE[SOURCE.index("variants:"):]
    merged = SOURCE.replace(variants, "variants:\n  realist: &base\n    worldview: realist\n"
                            "    demand: {scale: 1.5}\n  maximalist:\n    <<: *base\n    worldview: maximalist\n")
    plain = SOURCE.replace(variants, "variants:\n  realist:\n    worldview: realist\n    demand: {scale: 1.5}\n"
                           "  maximalist:\n    worldview: maximalist\n    demand: {scale: 1.5}\n")
    a = capacity.load_scenario(_yaml(tmp_path, merged, "merged.yaml"))
    b = capacity.load_scenario(_yaml(tmp_path, plain, "plain.yaml"))
    assert a.cases == b.cases
    assert a.cases["maximalist"].worldview == "maximalist"            # the explicit key wins


def test_a_use_case_defined_by_merging_two_anchors_is_read_as_written_out(tmp_path):
    merged = _edit("  drafting: {}\n  software-development: {}",
                   "  drafting: &a {requests_per_user_per_day: 3}\n"
                   "  customer-service: &b {output_tokens: 700}\n"
                   "  software-development: {<<: [*a, *b], output_tokens: 1100}")
    merged = merged.replace("  customer-service: {}\n", "", 1)
    plain = _edit("  drafting: {}\n  software-development: {}",
                  "  drafting: {requests_per_user_per_day: 3}\n"
                  "  customer-service: {output_tokens: 700}\n"
                  "  software-development: {requests_per_user_per_day: 3, output_tokens: 1100}")
    plain = plain.replace("  customer-service: {}\n", "", 1)
    a = capacity.load_scenario(_yaml(tmp_path, merged, "merged.yaml"))
    b = capacity.load_scenario(_yaml(tmp_path, plain, "plain.yaml"))
    assert _use_cases(a) == _use_cases(b)
    assert a.cases["realist"].use_cases["software-development"].output_tokens == 1100


def test_a_merged_scenario_runs_to_the_same_results_as_the_expanded_file(tmp_path, scenario_file):
    small = scenario_file(tmp_path, use_cases=("drafting", "software-development"), first=2026, last=2027)
    text = small.read_text()
    assert "drafting: {}, software-development: {}" in text
    merged = text.replace("drafting: {}, software-development: {}",
                          "drafting: &d {output_tokens: 800}, software-development: {<<: *d, "
                          "requests_per_user_per_day: 4}", 1)
    plain = text.replace("drafting: {}, software-development: {}",
                         "drafting: {output_tokens: 800}, software-development: {output_tokens: 800, "
                         "requests_per_user_per_day: 4}", 1)
    a = capacity.run(capacity.load_scenario(_yaml(tmp_path, merged, "merged.yaml")))
    b = capacity.run(capacity.load_scenario(_yaml(tmp_path, plain, "plain.yaml")))
    assert a.results.equals(b.results)


def test_an_error_in_a_merged_value_names_the_anchor_line(tmp_path):
    text = _edit("  drafting: {}\n  software-development: {}",
                 "  drafting: &a {output_tokens: -5}\n  software-development: {<<: *a}")
    result, out = _run(tmp_path, text)
    refused(result, f"s.yaml:{_line_of(text, 'drafting:')}", "output_tokens", out)


@pytest.mark.parametrize("merge", ["<<: 5", "<<: [1, 2]", "<<: *scalar", "<<: *list", "<<: [*list]"])
def test_a_merge_of_something_that_is_not_a_mapping_is_refused(tmp_path, merge):
    text = _edit("  NLD: {}", f"  NLD:\n    {merge}")
    text = "x_scalar: &scalar 3\nx_list: &list [1, 2]\n" + text
    result, out = _run(tmp_path, text)
    refused(result, "s.yaml:", "not a mapping", out)


# --- broken syntax and documents that are not one mapping ---------------------------------------

SYNTAX = {
    "an unclosed flow mapping": ("horizon:\n  first_year: 2026", "horizon: {first_year: 2026"),
    "an unclosed flow list": ("  NLD: {}", "  NLD: [population"),
    "a stray closing bracket": ("  NLD: {}", "  NLD: {}}"),
    "an unterminated quote": ("name: netherlands", 'name: "netherlands'),
    "a tab for indentation": ("  NLD: {}", "\tNLD: {}"),
    "a tab inside a block": ("  first_year: 2026", "  first_year: 2026\n\t last_year: 2030"),
    "a bad indentation": ("  last_year: 2035", "    last_year: 2035"),
    "a second document": ("variants:", "---\nvariants:"),
    "a key without a value separator": ("  NLD: {}", "  NLD {}\n  x: : y"),
}


@pytest.mark.parametrize("case", list(SYNTAX))
def test_broken_yaml_syntax_is_refused_with_a_line(tmp_path, case):
    text = _edit(*SYNTAX[case])
    result, out = _run(tmp_path, text, before=b"an earlier plan\n")
    refused(result, "s.yaml:", "YAML", out, b"an earlier plan\n", folder=tmp_path)


DOCUMENTS = {"a list": "- a\n- b\n", "a scalar": "hello\n", "a number": "42\n", "empty": "",
             "only comments": "# a scenario\n# to fill in\n", "only a null": "~\n",
             "only a document marker": "---\n", "two empty documents": "---\n---\n"}


@pytest.mark.parametrize("case", list(DOCUMENTS))
def test_a_document_that_is_not_one_mapping_is_refused(tmp_path, case):
    result, out = _run(tmp_path, DOCUMENTS[case])
    refused(result, "s.yaml:2" if case == "two empty documents" else "s.yaml:1", "", out)


def test_two_scenario_documents_in_one_file_are_refused(tmp_path):
    result, out = _run(tmp_path, SOURCE + "---\n" + SOURCE)
    refused(result, f"s.yaml:{len(SOURCE.splitlines()) + 1}", "another document", out)


# --- --set values written as YAML ------------------------------------------------------------------

SETS = {   # --set value -> where word
    "demand.scale=!!python/object/apply:os.system [ls]": "YAML tag",
    "demand.scale=!foo 3": "YAML tag",
    "demand.scale=!!binary aGVsbG8=": "YAML tag",
    "name=!!python/name:os.system": "YAML tag",
    "demand.scale=*anchor": "does not start with a number",
    "demand.scale=&a [*a]": "through aliases",
    "demand.scale={a: 1}": "expected a quantity",
    "demand.scale={<<: {a: 1}}": "expected a quantity",
    "demand.scale=[1, 2]": "expected a quantity",
    "regions.NLD.population=- 1": "expected a quantity",
    "demand.scale=017": "octal",
    "name={a: 1}": "a name as text",
    "name=[1, 2]": "a name as text",
    "use_cases.drafting.output_tokens=" + "[" * 100 + "]" * 100: "nested more than",
}


@pytest.mark.parametrize("setting", list(SETS))
def test_a_set_value_written_as_yaml_is_refused_naming_the_set(tmp_path, setting):
    out = tmp_path / "p.csv"
    message = refused(invoke("run", "--set", setting, "-o", str(out)), f"--set {setting}", SETS[setting], out)
    assert "netherlands.yaml" not in message and f"{setting}:1" not in message
