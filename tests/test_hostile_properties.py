"""Properties of the input boundary (issue 14), with hypothesis: whatever is typed into a text
field, a --set value or any line of a scenario file, the command either runs (exit 0, output
written) or refuses cleanly (exit 2, exactly one located message, no traceback, the existing
output byte-identical, no temporary file left)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hostile_support import invoke

from conftest import write_scenario

OLD = b"an earlier plan\n"
TEXT_FIELDS = ["name", "title", "description", "options.hosted-open-weight.gpu",
               "options.hosted-open-weight.model", "options.domestic-buildout.gpu",
               "options.domestic-buildout.model", "options.frontier-api.frontier_tier.product",
               "use_cases.drafting.archetype", "regions.NLD.name", "options.hosted-open-weight.engine",
               "use_cases.drafting.user_base", "worldview"]
NUMBER_FIELDS = ["demand.scale", "options.domestic-buildout.pue", "regions.NLD.population",
                 "regions.NLD.electricity_price", "use_cases.drafting.output_tokens",
                 "options.frontier-api.frontier_tier.price_change", "horizon.last_year",
                 "options.domestic-buildout.server_lifetime"]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["=1+1", "@SUM(A1)", "../../etc/passwd", "\x00", "\ufeff", "1e400", "nan", "-inf",
                     "0,15", "18 000", "!!python/object:os.system ls", "*a", "&a [*a]", "{a: {b: }}",
                     "[[[[[[", "'", '"', "%", "1 ((", "2=3", "\u202e", "NaN USD", "1" * 500]),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("properties")
    return write_scenario(folder, first=2026, last=2027, name="prop")


def _clean(result, out: Path):
    assert result.exit_code in (0, 2), (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        errors = [line for line in result.output.splitlines() if line.startswith("capacity: error:")]
        assert len(errors) == 1, result.output
        assert out.read_bytes() == OLD
    else:
        assert out.read_bytes() != OLD
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(TEXT_FIELDS + NUMBER_FIELDS), text=HOSTILE_TEXT)
def test_any_text_in_any_field_runs_or_is_refused_cleanly(small, tmp_path, field, text):
    out = tmp_path / "p.csv"
    out.write_bytes(OLD)
    _clean(invoke("run", str(small), "--set", f"{field}={text}", "-o", str(out)), out)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_of_a_scenario_line_runs_or_is_refused_cleanly(small, tmp_path, data):
    lines = small.read_text().splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    keep = data.draw(st.sampled_from(["key", "indent", "nothing"]))
    text = data.draw(HOSTILE_TEXT)
    line = lines[index]
    if keep == "key" and ":" in line:
        lines[index] = line.split(":", 1)[0] + ": " + text
    elif keep == "indent":
        lines[index] = line[: len(line) - len(line.lstrip())] + text
    else:
        lines[index] = text
    edited = tmp_path / "edited.yaml"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    out = tmp_path / "p.csv"
    out.write_bytes(OLD)
    _clean(invoke("run", str(edited), "-o", str(out)), out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_an_assumption_csv_load_or_are_refused_cleanly(small, tmp_path, raw):
    table = tmp_path / "gpus.csv"
    table.write_bytes(b"id,parameter,value,unit,low,high,source,url,source_date,quality,notes\n" + raw)
    out = tmp_path / "p.csv"
    out.write_bytes(OLD)
    _clean(invoke("run", str(small), "--assumptions", str(table), "-o", str(out)), out)
