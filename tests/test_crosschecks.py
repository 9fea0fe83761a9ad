"""The library's defaults, pushed through the chain, against independent published figures
(assumptions/crosschecks.csv). Each comparison states its tolerance and why; README reports them.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import capacity
from capacity.data.catalog import default_catalog
from capacity.data.paths import assumptions_dir
from capacity.data.units import to_magnitude
from capacity.model.stages import power

REFERENCES = pd.read_csv(assumptions_dir() / "crosschecks.csv").set_index("id")
CATALOG = default_catalog()


def library(table, item, parameter):
    return float(CATALOG.get(table, item, parameter).value)


def reference(quantity, unit):
    rows = REFERENCES[REFERENCES["quantity"] == quantity]
    return {i: to_magnitude(f"{r['value']} {r['unit']}" if isinstance(r["unit"], str) else float(r["value"]), unit)
            for i, r in rows.iterrows()}


def it_watts_per_h100():
    """Default chain: H100 board power x server overhead, at full draw [W]."""
    return power.it_power(1, library("gpus", "h100-sxm", "board_power"),
                          library("defaults", "server", "overhead_factor"))


@pytest.mark.parametrize("source", list(reference("it_w_per_gpu", "W")))
def test_it_watts_per_h100_within_25_percent_of_published_figures(source):
    # Published IT figures differ in scope: a DGX rating (10.2 kW / 8), measured training draw,
    # and SemiAnalysis's critical IT which adds storage, management and network switches (~9 %).
    # 25 % covers that spread; the default (700 W x 1.5) sits inside it.
    published = reference("it_w_per_gpu", "W")[source]
    assert abs(it_watts_per_h100() / published - 1) <= 0.25, (source, it_watts_per_h100(), published)


@pytest.mark.parametrize("source", list(reference("facility_w_per_gpu", "W")))
def test_facility_watts_per_h100_within_35_percent_of_published_conventions(source):
    # Conventions multiply by PUE 1.14-1.4 and some by a cluster-network factor (Epoch: 1.14x)
    # and average utilisation (0.7-0.8); the default chain uses the hyperscale PUE and no separate
    # network term, so it sits at the low end; 35 % spans the published conventions.
    published = reference("facility_w_per_gpu", "W")[source]
    facility = power.facility_power(it_watts_per_h100(), library("defaults", "facility", "pue_hyperscale"))
    assert abs(facility / published - 1) <= 0.35, (source, facility, published)


def energy_per_chat_request_wh():
    """A chat request (1,500 input, 500 output tokens) on the default hosted chain: DeepSeek-V3 on
    H100 at FP8 and 50 ms per token, busy GPUs, server overhead, colocation PUE [Wh]."""
    estimate = capacity.throughput("deepseek-v3", "h100-sxm", "fp8", input_tokens=1500,
                                   output_tokens=500, max_tpot_ms=50)
    gpu_seconds = 500 / estimate.output_tokens_per_s_per_gpu
    watts = power.facility_power(it_watts_per_h100(), library("defaults", "facility", "pue_colocation"))
    return gpu_seconds * watts / 3600


@pytest.mark.parametrize("source", list(reference("energy_per_chat_request", "Wh")))
def test_energy_per_chat_request_within_a_factor_two_of_disclosures(source):
    # Disclosures are for closed models of unknown size (Gemini, GPT-4o) and unknown prompt
    # lengths, median or mean; a factor of two is the honest resolution of that comparison.
    published = reference("energy_per_chat_request", "Wh")[source]
    ratio = energy_per_chat_request_wh() / published
    assert 0.5 <= ratio <= 2.0, (source, energy_per_chat_request_wh(), published)


def test_netherlands_ai_electricity_share_is_a_part_of_its_datacentre_share(default_plan):
    # CBS: data centres used 4.6 % of Dutch electricity in 2024. The AI inference the default
    # scenario serves on national soil once domestic capacity stands (2035; before, the
    # hosted bridge buys most tokens per token abroad) must be a fraction of it.
    published = reference("datacenter_electricity_share", "")["cbs-nld-datacenter-share-2024"]
    results = default_plan.results
    share = results[(results["variable"] == "Grid|Share of consumption") & (results["year"] == 2035)
                    & (results["scenario"] == "realist")]["value"] / 100
    assert (share < published).all()
    # not vanishingly small either: a tenth of a percent of the data centres' share is far above
    # a broken chain (zero). (It was 1 % before the engine re-fit: TensorRT-LLM's Hopper
    # bandwidth share rose from 0.36 to 0.90, fitted on its KV-cache-bound TP1 measurements,
    # which halves the 2026 fleet for the default scenario's long, KV-bound requests.)
    assert share.max() > 0.001 * published


def test_rental_cost_per_million_tokens_within_the_published_price_range():
    # Llama 3.3 70B on a rented H100 at the library's median price, busy all hour, 3:1 input to
    # output tokens (Artificial Analysis's blend), against per-token host prices (0.19-0.88
    # USD/Mtok) and a self-hosting estimate (0.38 USD per output Mtok). Hosts add margin but gain
    # from scale; a factor of two either side of the published range is the tolerance.
    estimate = capacity.throughput("llama-3.3-70b", "h100-sxm", "fp8", input_tokens=1500,
                                   output_tokens=500, max_tpot_ms=50)
    price_per_s = library("gpus", "h100-sxm", "rental_price")          # USD/GPU/s
    per_mtok = price_per_s / (estimate.output_tokens_per_s_per_gpu * 4) * 1e6
    published = list(reference("open_model_price_per_mtok", "USD/Mtok").values())
    assert min(published) / 2 <= per_mtok <= max(published) * 2, (per_mtok, published)


USE_CASES = ["drafting", "software-development", "agentic-coding", "customer-service",
             "document-processing", "public-services", "cyber-defence", "research-analysis"]
EPOCH_SITE = {
    # Epoch AI's 1 GW site: all GB200 NVL72, a hyperscaler's cost of capital, PUE 1.14, power
    # at 71 % of nameplate, electricity at the 0.084 USD/kWh its energy line implies
    "options.domestic-buildout.gpu": "gb200", "options.domestic-buildout.gpu_roadmap.2028": "gb200",
    # every vintage on GB200 at one price, as in Epoch's site: no newer generation, no decline
    "options.domestic-buildout.after_roadmap": "last", "fleet.generation_price_change": 0,
    "options.domestic-buildout.pue": 1.14, "regions.NLD.electricity_price": "0.084 USD/kWh",
    "options.domestic-buildout.discount_rate": library("defaults", "finance", "discount_rate_private"),
    # a flat load kept 71 % busy: every hour of the year alike, no redundancy
    "fleet.target_utilisation": 0.71, "fleet.redundancy": 0,
    "regions.NLD.working_days_per_year": 365.25,
    **{f"use_cases.{name}.peak_to_average": 1 for name in USE_CASES},
}


def domestic_cost_per_mw_it_year(overrides) -> float:
    """The domestic option's total yearly cost [USD/yr] per MW of nameplate IT it has built, in
    the last year (every vintage then stands on the same GB200 price) [USD/MW/yr]."""
    plan = capacity.run("netherlands", overrides=overrides)
    own = plan.chain[0]["domestic-buildout"]
    nameplate_w = own["_facility_it_added"].sum(axis=-1)
    return float(own["total"][0, -1] / (nameplate_w[0] / 1e6))


def test_domestic_buildout_cost_per_mw_within_25_percent_of_epoch_1gw_gb200_site():
    # The bar: Epoch AI's 8.5 MUSD per MW-yr for a 1 GW GB200 site (capex annualised,
    # IT 5 yr and facility 14 yr, plus energy and O&M). The tool's domestic option, run under
    # the same conditions (EPOCH_SITE) with its own defaults for everything else (server and
    # facility capex, facility life 20 yr, grid connection, O&M from Epoch's line items), must
    # land within +/-25 %. Scale does not matter: the cost model is linear in MW.
    published = reference("tco_per_mw_it_yr", "USD/MW/yr")["epoch-1gw-gb200-tco"]
    modelled = domestic_cost_per_mw_it_year(EPOCH_SITE)
    assert published == pytest.approx(8.5e6)
    assert abs(modelled / published - 1) <= 0.25, modelled
    # and the comparison is sensitive: the former unsourced 5 %/yr server O&M adds about 1 MUSD
    heavier = domestic_cost_per_mw_it_year({**EPOCH_SITE, "options.domestic-buildout.server_om": 0.05})
    assert heavier - modelled == pytest.approx(
        0.045 * library("gpus", "gb200", "server_cost") * 1e6
        / (library("gpus", "gb200", "board_power") * library("defaults", "server", "overhead_factor")),
        rel=0.02)


HOST_PRICE_RANGES = {   # model -> the crosschecks.csv rows giving its per-token host prices (3:1)
    "llama-3.3-70b": ["deepinfra-llama-3.3-70b-blended-price", "together-llama-3.3-70b-price"],
    "deepseek-v3": ["deepinfra-deepseek-v3-blended-price"],
    "gpt-oss-120b": ["artificialanalysis-gpt-oss-120b-blended-price"],
}


@pytest.mark.parametrize("model", list(HOST_PRICE_RANGES))
def test_hosted_option_at_realistic_utilisation_lands_in_the_host_price_range(tmp_path, model):
    # The hosted option renting H100s in the Netherlands in 2026 to serve one open-weight model
    # (every request 1,500 prompt and 500 output tokens: the 3:1 blend the host prices are
    # quoted at, no prefix caching), with the default fleet settings: a reserved baseline for
    # the mean load and on-demand burst for the daily peak (customer service runs every day), so
    # the fleet is busy 15-40 % of the time, as a government's own load would keep it. Its cost per million tokens must
    # fall inside the range of per-token prices hosts charge for the same model (low to high
    # of the rows named above): hosts pool many customers' loads, so they may be cheaper, but
    # not by more than the spread between hosts.
    options = re.sub(r"\n *gpu_roadmap:[^\n]*", "", Path(capacity.load_scenario().source).read_text()
                     .split("options:")[1].split("variants:")[0])
    path = tmp_path / "one-model.yaml"
    path.write_text("name: one-model\nworldview: realist\nhorizon: {first_year: 2026, last_year: 2027}\n"
                    "regions: {NLD: {}}\nuse_cases: {customer-service: {token_growth: 0, frontier_share: 0, "
                    "input_tokens: 1500, output_tokens: 500, reasoning_tokens: 0, cached_input_share: 0}}\n"
                    "options:" + options)
    plan = capacity.run(path, overrides={"options.hosted-open-weight.open_tier.model": model,
                                         "options.hosted-open-weight.supply": "rent",
                                         "options.hosted-open-weight.after_roadmap": "last"})
    assert plan.rows["ho_gpu"].iloc[0] == "h100-sxm"
    per_mtok = plan.table("Cost|Per million tokens", option="hosted-open-weight").iloc[0, 0]
    utilisation = plan.table("Capacity|Utilisation", option="hosted-open-weight").iloc[0, 0] / 100
    rows = REFERENCES.loc[HOST_PRICE_RANGES[model]]
    low = np.nanmin(rows[["value", "low"]].to_numpy(float))
    high = np.nanmax(rows[["value", "high"]].to_numpy(float))
    assert 0.10 <= utilisation <= 0.40, utilisation
    assert low <= per_mtok <= high, (model, per_mtok, low, high)


NATIONAL_PRESETS = ["netherlands", "germany", "india", "japan", "united-kingdom", "singapore"]


@pytest.mark.parametrize("preset", NATIONAL_PRESETS)
def test_first_year_tokens_per_resident_lie_between_the_world_floor_and_chinas_national_count(preset):
    # Published token volumes divided by people (crosschecks.csv, tokens_per_person_per_year):
    # - the world row counts only the providers that publish (Google on every surface, OpenAI's
    #   API), over every resident: a floor of the world mean, so a country's first-year demand
    #   below its low end (1.9M) would leave out use that is already being served;
    # - China's row is an all-provider national count (NDA, March 2026), the nearest analogue to a
    #   national total. We accept up to 3x it: China counts by its own rules (cached and
    #   multimodal tokens unstated) and the presets differ in AI use and occupations; more than
    #   that and national demand has run away from anything observed.
    world, china = REFERENCES.loc["tokens-per-person-per-year-world-2026"], \
        REFERENCES.loc["tokens-per-person-per-year-china-2026"]
    plan = capacity.run(preset)
    case = plan.scenario.cases["realist"]
    region = next(iter(case.regions.values()))
    results = plan.results
    tokens = results.query("scenario == 'realist' and variable == 'Demand|Tokens' and "
                           f"year == {case.horizon.first_year}")["value"].iloc[0]
    per_resident = tokens / region.population
    assert float(world["low"]) <= per_resident <= 3 * float(china["value"]), f"{per_resident:.3g}"

