"""The What-if sheet's formulas, recomputed by an independent engine (`formulas`), equal the
Python model for that year, and move as the model moves when a named input changes."""

import numpy as np
import pytest
from openpyxl import load_workbook

import capacity
from capacity.io.export.workbook import write_workbook

formulas = pytest.importorskip("formulas")

YEAR = 2035
OUTPUTS = {  # defined name -> (option, variable in Plan.results)
    "frontier_api_gpus": ("frontier-api", "Capacity|GPUs|Offshore"),
    "frontier_api_facility_mw": ("frontier-api", "Power|Facility|Offshore"),
    "frontier_api_twh": ("frontier-api", "Energy|Electricity|Offshore"),
    "frontier_api_cost": ("frontier-api", "Cost|Total"),
    "frontier_api_usd_per_mtok": ("frontier-api", "Cost|Per million tokens"),
    "hosted_open_weight_gpus": ("hosted-open-weight", "Capacity|GPUs"),
    "hosted_open_weight_facility_mw": ("hosted-open-weight", "Power|Facility"),
    "hosted_open_weight_twh": ("hosted-open-weight", "Energy|Electricity"),
    "hosted_open_weight_cost": ("hosted-open-weight", "Cost|Total"),
    "hosted_open_weight_usd_per_mtok": ("hosted-open-weight", "Cost|Per million tokens"),
    "domestic_buildout_gpus": ("domestic-buildout", "Capacity|GPUs"),
    "domestic_buildout_facility_mw": ("domestic-buildout", "Power|Facility"),
    "domestic_buildout_twh": ("domestic-buildout", "Energy|Electricity"),
    "domestic_buildout_cost": ("domestic-buildout", "Cost|Total"),
    "domestic_buildout_usd_per_mtok": ("domestic-buildout", "Cost|Per million tokens"),
}


@pytest.fixture(scope="module")
def model(default_plan, tmp_path_factory):
    path = tmp_path_factory.mktemp("whatif") / "plan.xlsx"
    write_workbook(default_plan, path)
    book = load_workbook(path)
    names = {name: book.defined_names[name].attr_text for name in book.defined_names}
    engine = formulas.ExcelModel().loads(str(path)).finish()

    def key(name):
        sheet, cell = names[name].split("!")
        return f"'[{path.name}]{sheet.strip(chr(39)).upper()}'!{cell.replace('$', '')}"

    def calculate(**inputs):
        solution = engine.calculate(inputs={key(n): v for n, v in inputs.items()})
        return {name: float(np.asarray(solution[key(name)].value).ravel()[0]) for name in OUTPUTS}

    return calculate


def python_values(plan):
    results = plan.results.set_index(["scenario", "region", "option", "variable", "year"])["value"]
    return {name: results[("realist", "NLD", option, variable, YEAR)]
            for name, (option, variable) in OUTPUTS.items()}


def test_formulas_reproduce_the_python_results_for_the_year(model, default_plan):
    excel, python = model(), python_values(default_plan)
    for name in OUTPUTS:
        assert excel[name] == pytest.approx(python[name], rel=1e-9), name


@pytest.mark.parametrize("inputs, overrides", [
    ({"electricity_price": 0.2}, ["regions.NLD.electricity_price=0.2 USD/kWh"]),
    ({"pue": 1.3}, ["options.domestic-buildout.pue=1.3"]),
    ({"facility_capex": 9.0, "grid_connection_capex": 1.0},
     ["options.domestic-buildout.facility_capex=9 MUSD/MW",
      "options.domestic-buildout.grid_connection_capex=1 MUSD/MW"]),
    ({"hosted_pue": 1.6}, ["options.hosted-open-weight.pue=1.6"]),
    ({"frontier_output_price": 20.0, "open_input_price": 0.5},
     ["options.frontier-api.frontier_tier.output_price=20 USD/Mtok",
      "options.frontier-api.open_tier.input_price=0.5 USD/Mtok"]),
])
def test_changing_a_named_input_moves_the_outputs_as_the_model_does(model, inputs, overrides):
    excel = model(**inputs)
    python = python_values(capacity.run(capacity.load_scenario(None, overrides=overrides)))
    baseline = model()
    assert any(abs(excel[n] - baseline[n]) > 1e-9 * abs(baseline[n]) for n in OUTPUTS)
    for name in OUTPUTS:
        assert excel[name] == pytest.approx(python[name], rel=1e-9), name
