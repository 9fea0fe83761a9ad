"""Properties of the whole chain (hypothesis): monotone in demand, invariant to unit spelling."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import capacity
from capacity.data.paths import scenarios_dir
from capacity.model.lookup import tables_for
from capacity.model.options import OPTIONS, evaluate
from capacity.model.rows import scenario_rows


@pytest.fixture(scope="module")
def base():
    scenario = capacity.load_scenario()
    return scenario_rows(scenario), tables_for(scenario.catalog)


QUANTITIES = ("gpus", "gpus_offshore", "facility_power", "facility_power_offshore", "energy", "total")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.floats(1.0, 20.0), knob=st.sampled_from(["potential_users", "requests_per_user_per_day"]))
def test_more_demand_never_gives_fewer_gpus_megawatts_or_cost(base, scale, knob):
    rows, tables = base
    _, before, _ = evaluate(rows, tables)
    _, after, _ = evaluate(rows.assign(**{knob: rows[knob] * scale}), tables)
    for option in OPTIONS:
        for quantity in QUANTITIES:
            assert np.all(after[option][quantity] >= before[option][quantity] * (1 - 1e-9) - 1e-6), \
                (option, quantity, scale)


SPELLINGS = {
    "electricity_price": ["0.15 USD/kWh", "150 USD/MWh", "0.00015 USD/Wh"],
    "facility_capex": ["12.3 MUSD/MW", "12.3 USD/W", "12300 kUSD/MW"],
    "build_lead_time": ["2.5 yr", "30 month", "2.5 year"],
    "max_tpot_ms": ["50", "50 ms", "0.05 s"],
    "output_price": ["10 USD/Mtok", "0.01 USD/ktok", "1e-5 USD/token"],
}


def _scenario_text(choice: dict) -> str:
    text = (scenarios_dir() / "netherlands.yaml").read_text()
    text = text.replace("  NLD: {}", f"  NLD: {{electricity_price: {choice['electricity_price']}}}")
    text = text.replace("    bridge: hosted-open-weight",
                        f"    bridge: hosted-open-weight\n    facility_capex: {choice['facility_capex']}\n"
                        f"    build_lead_time: {choice['build_lead_time']}")
    text = text.replace("    gpu: h100-sxm\n    precision: fp8\n    max_tpot_ms: 50",
                        f"    gpu: h100-sxm\n    precision: fp8\n    max_tpot_ms: {choice['max_tpot_ms']}")
    text = text.replace("frontier_tier: {product: gpt-5,",
                        f"frontier_tier: {{product: gpt-5, output_price: {choice['output_price']},")
    return text


@settings(max_examples=6, deadline=None)
@given(choice=st.fixed_dictionaries({k: st.sampled_from(v) for k, v in SPELLINGS.items()}))
def test_the_same_input_in_other_units_gives_the_same_results(tmp_path_factory, choice):
    reference = {k: v[0] for k, v in SPELLINGS.items()}
    folder = tmp_path_factory.mktemp("units")
    (folder / "a.yaml").write_text(_scenario_text(reference))
    (folder / "b.yaml").write_text(_scenario_text(choice))
    a = capacity.run(capacity.load_scenario(folder / "a.yaml")).results
    b = capacity.run(capacity.load_scenario(folder / "b.yaml")).results
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    np.testing.assert_allclose(b["value"], a["value"], rtol=1e-9, atol=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.floats(0.05, 20.0), utilisation=st.floats(0.1, 1.0), redundancy=st.floats(0.0, 0.5),
       peak=st.floats(1.0, 5.0), days=st.floats(150.0, 365.25), year_round=st.booleans())
def test_a_fleets_cost_per_token_is_never_below_its_cost_at_full_utilisation(
        base, scale, utilisation, redundancy, peak, days, year_round):
    # the same demand served by a fleet kept fully busy (a flat load every hour of the year,
    # sized at 100 % with no redundancy) costs the least per token; any other load shape or
    # sizing costs at least as much, for every option that holds a fleet (rented or owned)
    rows, tables = base
    rows = rows.assign(potential_users=rows["potential_users"] * scale, ho_supply=0.0,
                       ho_year_round=float(year_round))
    full = rows.assign(target_utilisation=1.0, redundancy=0.0, peak_to_average=1.0,
                       active_days_per_year=365.25)
    shaped = rows.assign(target_utilisation=utilisation, redundancy=redundancy, peak_to_average=peak,
                         active_days_per_year=days)
    # the same tokens a year in both: requests scale with active days, so rescale them
    shaped = shaped.assign(requests_per_user_per_day=shaped["requests_per_user_per_day"] * 365.25 / days)
    _, at_full, shared = evaluate(full, tables)
    _, at_shape, shared_shape = evaluate(shaped, tables)
    np.testing.assert_allclose(shared["tokens"], shared_shape["tokens"], rtol=1e-9)
    present = shared["present"]
    for option in ("hosted-open-weight", "domestic-buildout"):
        cheapest, cost = at_full[option]["per_mtok"][present], at_shape[option]["per_mtok"][present]
        assert np.all(cost >= cheapest * (1 - 1e-9)), option
