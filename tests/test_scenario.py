"""Scenario loading: defaults from the library, variants, and located errors for bad input."""

from pathlib import Path

import pytest

from capacity.data.errors import InputError
from capacity.data.paths import scenarios_dir
from capacity.data.scenario import load_scenario

DEFAULT = (scenarios_dir() / "netherlands.yaml").read_text()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def replace_line(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_default_scenario_is_the_netherlands_with_both_worldviews():
    scenario = load_scenario()
    assert scenario.name == "netherlands"
    assert list(scenario.cases) == ["realist", "maximalist"]
    realist, maximalist = scenario.cases["realist"], scenario.cases["maximalist"]
    assert realist.regions["NLD"].name == "Netherlands"
    # the worldview picks the archetype's frontier share
    assert (maximalist.use_cases["drafting"].frontier_share
            >= realist.use_cases["drafting"].frontier_share)


def test_values_left_out_come_from_the_assumption_library_with_provenance():
    scenario = load_scenario()
    used = scenario.assumptions_used["realist"]
    row = used[("options", "domestic-buildout", "pue")]
    assert row.key == "defaults:facility:pue_hyperscale"
    assert scenario.cases["realist"].options.domestic_buildout.pue == pytest.approx(float(row.value))


def test_units_in_the_scenario_are_converted(tmp_path):
    text = DEFAULT.replace("    bridge: hosted-open-weight", "    bridge: hosted-open-weight\n"
                           "    facility_capex: 12 MUSD/MW\n    build_lead_time: 30 month\n"
                           "    pue: 1.2")
    case = load_scenario(write(tmp_path, text)).cases["realist"]
    settings = case.options.domestic_buildout
    assert settings.facility_capex == pytest.approx(12.0)       # USD/W
    assert settings.build_lead_time == pytest.approx(2.5)        # yr
    assert settings.pue == 1.2


@pytest.mark.parametrize("old, new, key, found, expected", [
    ("    max_tpot_ms: 50\n    location", "    max_tpot_ms: 50 kg\n    location",
     "options.hosted-open-weight.max_tpot_ms", "50 kg", "ms"),
    ("  drafting: {}", "  drafting: {requests_per_user_per_day: -3}",
     "use_cases.drafting.requests_per_user_per_day", "-3", ">= 0"),
    ("    gpu: h100-sxm", "    gpu: h100-sxn",
     "options.hosted-open-weight.gpu", "unknown id 'h100-sxn'", "did you mean 'h100-sxm'"),
    ("    open_tier: {model: gpt-oss-120b}\n    gpu: h100", "    open_tier: {model: llama-9}\n    gpu: h100",
     "options.hosted-open-weight.open_tier.model", "unknown id 'llama-9'", "one of"),
    ("  last_year: 2035", "  lastyear: 2035", "horizon.lastyear", "unknown key 'lastyear'",
     "did you mean 'last_year'"),
    ("    location: domestic", "    locaton: domestic", "options.hosted-open-weight.locaton",
     "unknown key", "did you mean 'location'"),
])
def test_bad_input_names_file_line_key_found_and_expected(tmp_path, old, new, key, found, expected):
    text = replace_line(DEFAULT, old, new)
    path = write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_scenario(path)
    message = str(error.value)
    fragment = new.strip().splitlines()[0]
    assert message.startswith(f"{path}:{line_of(text, fragment)}: {key}"), message
    assert found in message and expected in message


def test_missing_field_without_default_is_refused(tmp_path):
    text = replace_line(DEFAULT, "  first_year: 2026\n", "")
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=r"scenario.yaml:\d+: horizon.first_year: found nothing"):
        load_scenario(path)


def test_unknown_preset_suggests_the_close_one():
    with pytest.raises(InputError, match="did you mean 'netherlands'"):
        load_scenario("netherland")


def test_invalid_yaml_is_located(tmp_path):
    path = write(tmp_path, "horizon: [2026\nregions: {}\n")
    with pytest.raises(InputError, match=r"scenario.yaml:\d+: found invalid YAML"):
        load_scenario(path)


def test_a_region_can_carry_its_own_statistics(tmp_path):
    text = replace_line(DEFAULT, "  NLD: {}", "  NLD: {population: 20 million, electricity_consumption: 120 TWh/yr}")
    with pytest.raises(InputError):   # "million" is not a unit: refused, not guessed
        load_scenario(write(tmp_path, text))
    text = replace_line(DEFAULT, "  NLD: {}", "  NLD: {population: 20e6, electricity_consumption: 120 TWh/yr}")
    region = load_scenario(write(tmp_path, text)).cases["realist"].regions["NLD"]
    assert region.population == 20e6
    assert region.electricity_consumption == pytest.approx(120e12 * 3600)   # J/yr


def test_scenario_reference_in_docs_is_generated_from_the_models():
    from capacity.data.scenario import field_reference
    doc = (Path(__file__).resolve().parent.parent / "docs" / "scenario.md").read_text()
    assert doc.endswith(field_reference())
