"""The schema of the assumption tables: which parameters each table holds, in which unit.

Written once; drives the loading checks (`catalog`), the docs and the templates. A parameter's
unit is the canonical unit the model computes in; a row may be written in any unit of the same
dimension. ``None`` marks a text parameter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    unit: str | None          # canonical unit; None for text
    description: str


def _p(unit, description):
    return Parameter(unit, description)


TEXT = None

ENGINES = ("tensorrt-llm", "vllm", "sglang")
"""Inference engines the efficiency factors are calibrated for (re-exported by `model.lookup`)."""


def efficiency_id_problem(row_id: str) -> str | None:
    """Why `row_id` is not an id of the efficiency table, or None.

    An id is ``all``, an architecture in lower case (``cdna 3``) or a GPU id, fitted on every
    engine's measurements; or one of those after an engine and a slash (``vllm/all``,
    ``vllm/cdna 3``, ``vllm/mi300x``), fitted on that engine's measurements.
    """
    engine, _, scope = row_id.rpartition("/")
    if engine and engine not in ENGINES:
        return f"engine {engine!r} is not one of {', '.join(ENGINES)}"
    if not scope or scope != scope.lower() or "/" in engine:
        return "the scope after the engine must be 'all', a lower-case architecture or a GPU id"
    return None

TABLES: dict[str, dict[str, Parameter]] = {
    "gpus": {
        "vendor": _p(TEXT, "manufacturer"),
        "architecture": _p(TEXT, "GPU architecture (Hopper, Blackwell, CDNA 3...): what "
                                 "calibrated efficiency factors belong to"),
        "release_year": _p("", "year of first volume shipments"),
        "extrapolated_from": _p(TEXT, "for a generation not yet catalogued: the GPU it is "
                                      "extrapolated from (see capacity.data.generations)"),
        "peak_flops_bf16": _p("FLOP/s", "dense peak at BF16 per GPU"),
        "peak_flops_fp8": _p("FLOP/s", "dense peak at FP8 per GPU"),
        "peak_flops_fp4": _p("FLOP/s", "dense peak at FP4 per GPU"),
        "hbm_capacity": _p("byte", "HBM per GPU"),
        "memory_bandwidth": _p("byte/s", "HBM bandwidth per GPU"),
        "board_power": _p("W", "maximum board power per GPU"),
        "scale_up_domain": _p("GPU", "GPUs in one NVLink / Infinity Fabric domain"),
        "gpus_per_server": _p("GPU", "GPUs per server or compute tray"),
        "purchase_price": _p("USD/GPU", "price of the GPU alone"),
        "server_cost": _p("USD/GPU", "all-in server cost per GPU (CPUs, memory, network share)"),
        "rental_price": _p("USD/GPU/s", "cloud rental price per GPU-hour"),
    },
    "models": {
        "architecture": _p(TEXT, "dense or moe"),
        "attention": _p(TEXT, "mha, gqa, mla or gqa-sliding"),
        "total_params": _p("", "all parameters"),
        "active_params": _p("", "parameters used per token"),
        "layers": _p("", "transformer layers"),
        "hidden_size": _p("", "model width"),
        "attention_heads": _p("", "query heads"),
        "kv_heads": _p("", "key/value heads"),
        "head_dim": _p("", "dimension of one attention head"),
        "kv_lora_rank": _p("", "MLA latent KV dimension"),
        "qk_rope_head_dim": _p("", "MLA decoupled RoPE key dimension"),
        "sliding_window": _p("token", "sliding attention window"),
        "sliding_layer_share": _p("", "share of layers with a sliding window"),
        "experts": _p("", "routed experts per MoE layer"),
        "experts_per_token": _p("", "routed experts active per token"),
        "shared_experts": _p("", "always-active experts per MoE layer"),
        "native_precision": _p(TEXT, "precision of the released weights"),
        "context_length": _p("token", "maximum context"),
        "license": _p(TEXT, "licence of the weights"),
        "release_date": _p(TEXT, "date of release"),
        "frontier_lag_months": _p("month", "how far it trailed the frontier at release"),
    },
    "api_products": {
        "provider": _p(TEXT, "company selling the API"),
        "input_price": _p("USD/token", "price of input tokens"),
        "output_price": _p("USD/token", "price of output tokens (reasoning included)"),
        "cached_input_price": _p("USD/token", "price of cached input tokens"),
        "price_date": _p(TEXT, "date the price was read"),
        "release_date": _p(TEXT, "release of the model behind the product"),
        "serves_model": _p(TEXT, "open-weight model a per-token host serves (models id)"),
        "tier": _p(TEXT, "flagship: the provider's top model at release (the newest is the "
                         "frontier tier's default product)"),
    },
    "efficiency": {
        "eta_flops_bf16": _p("", "achievable share of dense BF16 peak"),
        "eta_flops_fp8": _p("", "achievable share of dense FP8 peak"),
        "eta_flops_fp4": _p("", "achievable share of dense FP4 peak"),
        "eta_bandwidth": _p("", "achievable share of HBM bandwidth"),
        "eta_moe": _p("", "efficiency of routed-expert kernels relative to dense kernels"),
        "layer_overhead": _p("s", "fixed time per transformer layer per engine step"),
    },
    "defaults": {
        "facility.pue_hyperscale": _p("", "PUE of a liquid-cooled hyperscale AI hall"),
        "facility.pue_colocation": _p("", "PUE of a colocation facility"),
        "facility.pue_legacy": _p("", "PUE of the industry's older facilities"),
        "facility.capex_per_mw_it": _p("USD/W", "shell, power and cooling per MW of IT load"),
        "facility.om_fraction": _p("1/yr", "yearly O&M as a share of facility capex"),
        "facility.om_per_mw_it": _p("USD/W/yr", "yearly O&M per MW of IT load"),
        "facility.lifetime": _p("yr", "economic life of the building and M&E plant"),
        "facility.build_lead_time": _p("yr", "permitting and construction of a large AI datacenter"),
        "grid.connection_capex_per_mw": _p("USD/W", "HV connection and substation per MW"),
        "grid.connection_lead_time": _p("yr", "wait for a grid connection"),
        "grid.lifetime": _p("yr", "economic life of the connection assets"),
        "server.overhead_factor": _p("", "server wall power over the sum of GPU board power"),
        "server.idle_power_fraction": _p("", "server power at idle over its maximum"),
        "server.lifetime": _p("yr", "useful life of GPU servers"),
        "server.om_fraction": _p("1/yr", "yearly maintenance as a share of server capex"),
        "fleet.target_utilisation": _p("", "peak-hour busy share a serving fleet plans for"),
        "fleet.redundancy": _p("", "spare capacity share"),
        "fleet.usable_hbm_fraction": _p("", "share of HBM an engine fills with weights and KV"),
        "fleet.max_batch_size": _p("", "sequences one engine replica schedules at once"),
        "fleet.max_tokens_per_step": _p("token", "tokens one engine step processes"),
        "finance.discount_rate_public": _p("1/yr", "public (social) real discount rate"),
        "finance.discount_rate_private": _p("1/yr", "private investors' real cost of capital"),
        "trend.frontier_api_price_change": _p("1/yr", "yearly change of frontier-tier token prices"),
        "trend.fixed_capability_price_change": _p("1/yr", "yearly change of price at fixed capability"),
        "trend.gpu_rental_price_change": _p("1/yr", "yearly change of GPU rental prices"),
        "trend.gpu_perf_per_watt_gain": _p("1/yr", "yearly gain in performance per watt"),
        "trend.gpu_perf_per_dollar_gain": _p("1/yr", "yearly gain in performance per dollar"),
        "trend.gpu_generation_price_change": _p("1/yr", "yearly change of one GPU generation's "
                                                        "price after it ships"),
        "demand.working_days_per_year": _p("day/yr", "working days a year"),
        "demand.peak_to_average": _p("", "working-hours peak over the daily mean load"),
        "demand.reference_ai_user_share": _p("", "share of the working-age population using "
                                                 "generative AI where the use-case adoption "
                                                 "curves were observed"),
        "demand.token_growth_years": _p("yr", "years the growth of tokens per request lasts"),
        "api.cached_input_share": _p("", "share of input tokens billed at the cached price"),
        "offshore.grid_co2_intensity": _p("kg/J", "CO2 intensity of the grid abroad"),
        "offshore.pue": _p("", "PUE of the foreign hyperscaler fleet"),
        "offshore.electricity_price": _p("USD/J", "electricity price of the foreign hyperscaler fleet"),
        "market.reserved_to_on_demand": _p("", "reserved (1-yr) GPU rent over on-demand rent"),
        "trend.host_price_change": _p("1/yr", "yearly change of a host's per-token price for one open-weight model"),
        "market.compute_markup": _p("", "least markup of a seller of compute (rent, tokens) over its full cost"),
    },
    "countries": {
        "name": _p(TEXT, "country name"),
        "population": _p("", "residents"),
        "workforce": _p("", "employed persons or labour force"),
        "electricity_consumption": _p("J/yr", "national electricity consumption"),
        "peak_demand": _p("W", "national peak electricity demand"),
        "electricity_price": _p("USD/J", "industrial electricity price"),
        "grid_co2_intensity": _p("kg/J", "CO2 intensity of electricity"),
        "datacenter_electricity_share": _p("", "share of electricity used by data centres"),
        "workforce_share_managers": _p("", "share of employed persons in ISCO-08 major group 1 "
                                           "(managers)"),
        "workforce_share_professionals": _p("", "share of employed persons in ISCO-08 major group 2 "
                                                "(professionals)"),
        "workforce_share_technicians": _p("", "share of employed persons in ISCO-08 major group 3 "
                                              "(technicians and associate professionals)"),
        "workforce_share_clerical": _p("", "share of employed persons in ISCO-08 major group 4 "
                                           "(clerical support workers)"),
        "workforce_share_ict_professionals": _p("", "share of employed persons in ISCO-08 sub-major "
                                                    "group 25 (ICT professionals)"),
        "internet_user_share": _p("", "share of the population using the internet"),
        "ai_user_share": _p("", "share of the working-age population using generative AI"),
        "datacenter_construction_cost": _p("USD/W", "cost of building a data centre per W of IT "
                                                    "load (shell, power, cooling)"),
    },
    "limits": {
        "gpu_allocation": _p("", "H100-equivalents a country may receive over the period of an "
                                 "export rule (first_year to last_year)"),
        "first_year": _p("", "first year of the allocation period"),
        "last_year": _p("", "last year of the allocation period"),
        "accelerator_shipments": _p("1/yr", "AI accelerators shipped worldwide in a year, in "
                                            "H100-equivalents"),
        "grid_connection_per_year": _p("W/yr", "facility load new datacenters can connect to "
                                               "the grid a year"),
        "grid_connection_queue": _p("yr", "years a new large grid connection waits"),
        "build_rate": _p("W/yr", "datacenter capacity commissioned a year"),
        "datacenter_capacity": _p("W", "datacenter capacity (connected or contracted load)"),
        "unserved_value": _p("USD/token", "value a ministry places on demand no route serves"),
        "rented_ramp_time": _p("yr", "time to obtain rented GPU capacity at scale"),
        "open_switch_time": _p("yr", "time to move an application from a frontier API to an "
                                     "open-weight model"),
        "reserve_share": _p("", "share of the frontier tier's peak a hedging reserve covers"),
        "gpus": _p("", "GPUs of a pooled (shared) machine"),
        "capex": _p("USD", "acquisition cost of a pooled machine"),
        "cost_share": _p("", "share of a pooled machine's cost the country pays"),
        "allocation_share": _p("", "share of a pooled machine's capacity the country gets"),
    },
    "use_cases": {
        "user_base": _p(TEXT, "the population the user share applies to: population, "
                              "online-population, workforce, desk-workers, professionals, "
                              "clerical-workers or ict-professionals"),
        "user_share": _p("", "share of the base who are potential users"),
        "adoption_2025": _p("", "share of potential users active in 2025"),
        "adoption_midpoint_year": _p("", "year adoption reaches half of the potential users"),
        "adoption_midpoint_year_maximalist": _p("", "the same in the maximalist view"),
        "adoption_steepness": _p("1/yr", "logistic adoption rate"),
        "requests_per_user_per_day": _p("1/day", "requests per active user per working day"),
        "input_tokens_per_request": _p("token", "prompt and context tokens per request"),
        "output_tokens_per_request": _p("token", "visible output tokens per request"),
        "reasoning_tokens_per_request": _p("token", "hidden reasoning tokens per request"),
        "frontier_share_realist": _p("", "share needing a frontier model (realist view)"),
        "frontier_share_maximalist": _p("", "share needing a frontier model (maximalist view)"),
        "token_growth_realist": _p("1/yr", "yearly growth of tokens per request (realist)"),
        "token_growth_maximalist": _p("1/yr", "yearly growth of tokens per request (maximalist)"),
        "peak_to_average": _p("", "working-hours peak over the daily mean"),
        "cached_input_share": _p("", "share of input tokens served from the prefix cache"),
        "turns_per_session": _p("", "model calls per request, when a request is a session"),
        "context_growth_per_turn": _p("token", "tokens a session's context grows by per call"),
        "session_length_dispersion": _p("", "E[T^2] / E[T]^2 of calls per session"),
        "active_days_per_year": _p("day/yr", "days a year the use case runs (consumer use: every "
                                             "day; work use: the region's working days)"),
    },
}
