"""The three supply options, each composed from the stages on the same demand rows.

`evaluate(rows, tables)` takes the flat table of rows (scenario x region x year x use case, one
row each; see `ROW_COLUMNS`) and returns, for every option, every variable on a grid of
series (scenario x region) by year, in canonical units. Everything is array arithmetic over
rows, then over (series, tier, year) cells; no Python loop over rows, years or use cases.

Demand splits into two tiers per row: the share that needs a frontier model and the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.units import SECONDS_PER_YEAR
from .lookup import Tables, model_on_gpu
from .rows import SUPPLY_CODES
from .stages import cost, demand, fleet, power
from .stages.throughput import Throughput

OPTIONS = ("frontier-api", "hosted-open-weight", "domestic-buildout")
TIERS = ("frontier", "open")

ROW_COLUMNS = {
    # identity
    "scenario": "scenario (variant) name", "region": "region code", "use_case": "use case id",
    "year": "calendar year", "first_year": "first year of the horizon",
    # demand
    "potential_users": "people who could use it [1]",
    "adoption": "share of potential users active; NaN to use the logistic curve [1]",
    "adoption_saturation": "[1]", "adoption_midpoint_year": "[yr]", "adoption_steepness": "[1/yr]",
    "requests_per_user_per_day": "[1/day]", "working_days_per_year": "the region's [day/yr]",
    "active_days_per_year": "days a year the use case runs [day/yr]",
    "demand_scale": "multiplies every use case's requests [1]",
    "input_tokens": "per request in the first year [token]",
    "output_tokens": "per request in the first year, reasoning included [token]",
    "token_growth": "[1/yr]", "token_growth_years": "years the growth lasts [yr]",
    "frontier_share": "[1]", "peak_to_average": "[1]",
    "cached_input_share": "share of prompt tokens served from a prefix cache [1]",
    "turns_per_session": "model calls per request (session) [1]",
    "context_growth_per_turn": "tokens the context grows by per call [token]",
    "session_length_dispersion": "E[T^2] / E[T]^2 of calls per session [1]",
    # region
    "electricity_consumption": "[J/yr]", "peak_demand": "[W]", "electricity_price": "[USD/J]",
    "grid_co2_intensity": "[kg/J]",
    # fleet and finance
    "target_utilisation": "[1]", "redundancy": "[1]", "usable_hbm_fraction": "[1]",
    "max_batch_size": "sequences per engine replica [1]", "max_tokens_per_step": "[token]",
    "server_overhead": "[1]", "idle_power_fraction": "[1]", "discount_rate": "[1/yr]",
    # frontier-api: prices per tier, and the offshore fleet behind them
    "fa_frontier_input_price": "[USD/token]", "fa_frontier_output_price": "[USD/token]",
    "fa_open_input_price": "[USD/token]", "fa_open_output_price": "[USD/token]",
    "fa_frontier_cached_price": "[USD/token]", "fa_open_cached_price": "[USD/token]",
    "fa_price_change": "[1/yr]", "fa_price_year": "[yr]",
    "fa_frontier_model": "proxy model id", "fa_open_model": "proxy model id",
    "fa_gpu": "GPU generation of the offshore fleet this year",
    "fa_serving_server_capex": "server price per GPU of that generation bought this year [USD/GPU]", "fa_precision": "bf16|fp8|fp4", "fa_max_tpot": "[s], inf for none",
    "fa_gpus_per_replica": "[GPU], NaN to choose", "fa_pue": "[1]", "fa_grid_co2_intensity": "[kg/J]",
    # hosted-open-weight
    "ho_frontier_model": "model id", "ho_open_model": "model id",
    "ho_gpu": "GPU generation rented this year (roadmap)",
    "ho_precision": "", "ho_max_tpot": "[s]", "ho_gpus_per_replica": "[GPU]", "ho_pue": "[1]",
    "ho_domestic": "rented GPUs stand on national soil [bool]",
    "ho_rental_price": "of this year's GPU, at the price year [USD/GPU/s]",
    "ho_year_round": "1: a peak-sized reserved fleet all year; 0: reserved baseline and on-demand burst",
    "ho_reserved_price_ratio": "reserved over on-demand rent [1]",
    "ho_supply": "0 rent, 1 per-token from hosts, 2 auto (the cheaper per tier and year)",
    "ho_frontier_host_input_price": "[USD/token]", "ho_frontier_host_output_price": "[USD/token]",
    "ho_frontier_host_cached_input_price": "[USD/token]", "ho_open_host_input_price": "[USD/token]",
    "ho_open_host_output_price": "[USD/token]", "ho_open_host_cached_input_price": "[USD/token]",
    "ho_host_price_change": "[1/yr]", "ho_host_price_year": "[yr]",
    "ho_rent_year": "year the rent of this year's GPU moves from: price year or launch [yr]",
    "ho_server_capex": "the provider's server price per GPU of this year's GPU, bought this year [USD/GPU]", "ho_rental_price_change": "[1/yr]", "ho_price_year": "[yr]",
    # domestic-buildout
    "do_frontier_model": "model id", "do_open_model": "model id",
    "do_gpu": "reference GPU id (what capacity is counted in)",
    "do_gpu_bought": "GPU generation bought in this year (roadmap)",
    "do_precision": "", "do_max_tpot": "[s]", "do_gpus_per_replica": "[GPU]", "do_pue": "[1]",
    "do_server_capex": "all-in server price per GPU of the generation bought this year, in that year [USD/GPU]",
    "do_facility_capex": "[USD/W of IT]", "do_grid_connection_capex": "[USD/W of facility]",
    "do_server_lifetime": "[yr]", "do_facility_lifetime": "[yr]", "do_grid_lifetime": "[yr]",
    "do_server_om": "[1/yr]", "do_facility_om": "[1/yr]", "do_discount_rate": "[1/yr]",
    "do_arrival_year": "first year domestic capacity serves [yr]",
    "do_bridge": "option serving demand before arrival",
}


@dataclass
class Cells:
    """Index arithmetic for the (series, tier, year) grid the fleet is pooled on."""

    series: np.ndarray          # per row: series index
    year_index: np.ndarray      # per row: year - first grid year
    n_series: int
    n_years: int
    first_grid_year: int

    @classmethod
    def from_rows(cls, rows: pd.DataFrame) -> "Cells":
        key = rows["scenario"].astype(str) + "\x1f" + rows["region"].astype(str)
        series, _ = pd.factorize(key, sort=False)
        years = rows["year"].to_numpy(dtype=int)
        first = int(years.min())
        return cls(series.astype(np.int64), years - first, int(series.max()) + 1,
                   int(years.max()) - first + 1, first)

    def tier_cell(self) -> np.ndarray:
        """(rows, tiers) flat index into an (S, T, Y) grid."""
        tiers = np.arange(len(TIERS))[None, :]
        return (self.series[:, None] * len(TIERS) + tiers) * self.n_years + self.year_index[:, None]

    def series_cell(self) -> np.ndarray:
        """Per row flat index into an (S, Y) grid."""
        return self.series * self.n_years + self.year_index

    def sum_tiers(self, values: np.ndarray) -> np.ndarray:
        """Sum (rows, tiers) values into the (S, T, Y) grid."""
        total = fleet.group_sum(values.ravel(), self.tier_cell().ravel(),
                                self.n_series * len(TIERS) * self.n_years)
        return total.reshape(self.n_series, len(TIERS), self.n_years)

    def sum_series(self, values: np.ndarray) -> np.ndarray:
        """Sum per-row values (or (rows, tiers) values) into the (S, Y) grid."""
        values = values.sum(axis=1) if values.ndim == 2 else values
        total = fleet.group_sum(values, self.series_cell(), self.n_series * self.n_years)
        return total.reshape(self.n_series, self.n_years)

    def tier_value(self, values: np.ndarray) -> np.ndarray:
        """A per-(row, tier) setting on the (S, T, Y) grid: the largest of a cell's rows
        (rows of one cell share it, except replica sizes, where the largest is the one sized)."""
        out = np.full(self.n_series * len(TIERS) * self.n_years, np.nan)
        values = np.broadcast_to(values, self.tier_cell().shape)
        np.fmax.at(out, self.tier_cell().ravel(), values.ravel())
        return out.reshape(self.n_series, len(TIERS), self.n_years)

    def series_value(self, values: np.ndarray) -> np.ndarray:
        """A per-row setting constant within a (series, year) cell, on the (S, Y) grid."""
        out = np.full(self.n_series * self.n_years, np.nan)
        out[self.series_cell()] = values
        return out.reshape(self.n_series, self.n_years)

    def present(self) -> np.ndarray:
        """(S, Y) True where the series has rows in that year."""
        out = np.zeros(self.n_series * self.n_years, dtype=bool)
        out[self.series_cell()] = True
        return out.reshape(self.n_series, self.n_years)


def _col(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy()


def _f(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy(dtype=float)


def workload(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Demand stage over rows: tokens per year, per request, and rates, split by tier."""
    year = _f(rows, "year")
    # tokens per request grow for `token_growth_years`, then stay level
    since = np.minimum(year - _f(rows, "first_year"), _f(rows, "token_growth_years"))
    adoption = np.where(np.isnan(_f(rows, "adoption")),
                        demand.logistic_adoption(year, _f(rows, "adoption_saturation"),
                                                 _f(rows, "adoption_midpoint_year"),
                                                 _f(rows, "adoption_steepness")),
                        _f(rows, "adoption"))
    users = demand.active_users(_f(rows, "potential_users"), 1.0, adoption)
    active_days = _f(rows, "active_days_per_year")
    requests = demand.requests_per_year(users, _f(rows, "requests_per_user_per_day"),
                                        active_days) * _f(rows, "demand_scale")
    first_context = demand.tokens_per_request(_f(rows, "input_tokens"), _f(rows, "token_growth"), since)
    output_per_call = demand.tokens_per_request(_f(rows, "output_tokens"), _f(rows, "token_growth"), since)
    turns = _f(rows, "turns_per_session")
    # a session's shape holds as its tokens grow: its first context and its growth per turn alike
    growth = demand.tokens_per_request(_f(rows, "context_growth_per_turn"), _f(rows, "token_growth"), since)
    input_per_call = demand.mean_context(first_context, growth, turns, _f(rows, "session_length_dispersion"))
    input_per_request, output_per_request = turns * input_per_call, turns * output_per_call
    share = _f(rows, "frontier_share")
    tier_share = np.stack([share, 1.0 - share], axis=1)
    input_tokens = (requests * input_per_request)[:, None] * tier_share
    output_tokens = (requests * output_per_request)[:, None] * tier_share
    return {
        "active_users": users, "requests": requests,
        "input_per_request": input_per_request, "output_per_request": output_per_request,
        # what one model call (turn) reads and writes: what the throughput model serves
        "input_per_call": input_per_call, "output_per_call": output_per_call,
        "input_tokens": input_tokens, "output_tokens": output_tokens,
        "peak_output_rate": demand.peak_rate(output_tokens, active_days[:, None],
                                             _f(rows, "peak_to_average")[:, None]),
        "average_output_rate": demand.average_rate(output_tokens),
        "cached_input_share": _f(rows, "cached_input_share"),
    }


def tier_throughput(rows: pd.DataFrame, tables: Tables, work: dict, prefix: str,
                    gpu_column: str | None = None) -> Throughput:
    """Throughput for both tiers of an option's settings, shape (rows, tiers)."""
    models = np.stack([_col(rows, f"{prefix}_frontier_model"), _col(rows, f"{prefix}_open_model")], 1)
    return model_on_gpu(
        tables, models, _col(rows, gpu_column or f"{prefix}_gpu")[:, None],
        _col(rows, f"{prefix}_precision")[:, None],
        input_tokens=work["input_per_call"][:, None],
        output_tokens=work["output_per_call"][:, None],
        usable_hbm_fraction=_f(rows, "usable_hbm_fraction")[:, None],
        max_tpot_s=_f(rows, f"{prefix}_max_tpot")[:, None],
        gpus_per_replica=_f(rows, f"{prefix}_gpus_per_replica")[:, None],
        cached_input_share=work["cached_input_share"][:, None],
        max_batch_size=_f(rows, "max_batch_size")[:, None],
        max_tokens_per_step=_f(rows, "max_tokens_per_step")[:, None],
        engine=_col(rows, f"{prefix}_engine")[:, None],
    )


def _yearly_fleet(rows, tables, cells, work, tput: Throughput, gpu_column: str, pue_column: str):
    """A fleet sized each year for that year's peak (rented or offshore): GPUs, power, energy."""
    peak = cells.sum_tiers(fleet.gpu_seconds_per_second(work["peak_output_rate"],
                                                        tput.output_tokens_per_s_per_gpu))
    mean = cells.sum_tiers(fleet.gpu_seconds_per_second(work["average_output_rate"],
                                                        tput.output_tokens_per_s_per_gpu))
    gpu = _col(rows, gpu_column)
    per_replica = cells.tier_value(tput.gpus_per_replica)
    per_server = cells.tier_value(tables.gpu(gpu, "gpus_per_server")[:, None])
    gpus = fleet.provisioned_gpus(peak, cells.tier_value(_f(rows, "target_utilisation")[:, None]),
                                  np.nan_to_num(per_replica, nan=1.0),
                                  np.nan_to_num(per_server, nan=1.0),
                                  cells.tier_value(_f(rows, "redundancy")[:, None]))
    board = cells.tier_value(tables.gpu(gpu, "board_power")[:, None])
    overhead = cells.tier_value(_f(rows, "server_overhead")[:, None])
    idle = cells.tier_value(_f(rows, "idle_power_fraction")[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        busy_peak = np.where(gpus > 0, peak / gpus, 0.0)
        busy_mean = np.where(gpus > 0, mean / gpus, 0.0)
    it_peak = power.it_power(gpus, np.nan_to_num(board), overhead, power.draw_fraction(busy_peak, idle))
    it_mean = power.it_power(gpus, np.nan_to_num(board), overhead, power.draw_fraction(busy_mean, idle))
    pue = cells.series_value(_f(rows, pue_column))
    return {
        # by tier (S, T, Y), for prices that follow the fleet of each tier
        "_gpus_by_tier": gpus, "_it_w_per_gpu": np.nan_to_num(board) * overhead,
        "_peak_load": peak, "_mean_load": mean, "_utilisation": cells.tier_value(
            _f(rows, "target_utilisation")[:, None]), "_per_replica": np.nan_to_num(per_replica, nan=1.0),
        "_per_server": np.nan_to_num(per_server, nan=1.0), "_idle": idle, "_pue": pue,
        "_energy_by_tier": power.energy_per_year(power.facility_power(np.nan_to_num(it_mean),
                                                                      pue[:, None, :])),
        "gpus": gpus.sum(axis=1),
        "busy_gpus": np.nan_to_num(busy_mean * gpus).sum(axis=1),
        "it_power": np.nan_to_num(it_peak).sum(axis=1),
        "facility_power": power.facility_power(np.nan_to_num(it_peak).sum(axis=1), pue),
        "energy": power.energy_per_year(power.facility_power(np.nan_to_num(it_mean).sum(axis=1), pue)),
    }


def _domestic_fleet(rows, tables, cells, work, reference: Throughput, bought: Throughput):
    """Owned fleet: capacity from the arrival year, bought in vintages that retire and are
    replaced by the generation then current; facility and grid built to the running peak."""
    available = cells.series_value((_f(rows, "year") >= _f(rows, "do_arrival_year")).astype(float))
    available = np.nan_to_num(available)[:, None, :]
    load_ref = cells.sum_tiers(fleet.gpu_seconds_per_second(
        work["peak_output_rate"], reference.output_tokens_per_s_per_gpu))
    load_new = cells.sum_tiers(fleet.gpu_seconds_per_second(
        work["peak_output_rate"], bought.output_tokens_per_s_per_gpu))
    mean_ref = cells.sum_tiers(fleet.gpu_seconds_per_second(
        work["average_output_rate"], reference.output_tokens_per_s_per_gpu))
    util = cells.tier_value(_f(rows, "target_utilisation")[:, None])
    redundancy = cells.tier_value(_f(rows, "redundancy")[:, None])
    # capacity counted in reference-GPU equivalents; q = what one GPU bought that year is worth
    required = np.nan_to_num(load_ref / util * (1.0 + redundancy)) * available
    with np.errstate(divide="ignore", invalid="ignore"):
        worth = np.where(load_new > 0, load_ref / load_new, 1.0)
    worth = np.nan_to_num(worth, nan=1.0)
    gpu_bought = _col(rows, "do_gpu_bought")
    per_server = np.nan_to_num(cells.tier_value(tables.gpu(gpu_bought, "gpus_per_server")[:, None]), nan=1.0)
    # settings constant over a series' years: take them from any year the series has
    life = np.nanmax(cells.tier_value(_f(rows, "do_server_lifetime")[:, None]), axis=-1)
    purchases_ref = fleet.replacement_purchases(required, life)
    bought_gpus = np.ceil(purchases_ref / worth / per_server - 1e-9) * per_server
    gpus = fleet.standing(bought_gpus, life)
    capacity_ref = fleet.standing(bought_gpus * worth, life)
    board = np.nan_to_num(cells.tier_value(tables.gpu(gpu_bought, "board_power")[:, None]))
    overhead = cells.tier_value(_f(rows, "server_overhead")[:, None])
    nameplate = fleet.standing(power.it_power(bought_gpus, board, overhead), life)
    idle = cells.tier_value(_f(rows, "idle_power_fraction")[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        busy_peak = np.where(capacity_ref > 0, load_ref * available / capacity_ref, 0.0)
        busy_mean = np.where(capacity_ref > 0, mean_ref * available / capacity_ref, 0.0)
    it_peak = np.nan_to_num(nameplate * power.draw_fraction(busy_peak, idle)).sum(axis=1)
    it_mean = np.nan_to_num(nameplate * power.draw_fraction(busy_mean, idle)).sum(axis=1)
    server_capex_spent = bought_gpus * np.nan_to_num(
        cells.tier_value(_f(rows, "do_server_capex")[:, None]))

    pue = cells.series_value(_f(rows, "do_pue"))
    rate = cells.series_value(_f(rows, "do_discount_rate"))
    s_life = life[:, 0]
    f_life = np.nanmax(cells.series_value(_f(rows, "do_facility_lifetime")), axis=-1)
    g_life = np.nanmax(cells.series_value(_f(rows, "do_grid_lifetime")), axis=-1)
    nameplate_total = np.nan_to_num(nameplate).sum(axis=1)
    facility_it_added = np.diff(np.maximum.accumulate(nameplate_total, axis=-1), axis=-1, prepend=0.0)
    facility_spent = facility_it_added * np.nan_to_num(cells.series_value(_f(rows, "do_facility_capex")))
    grid_spent = facility_it_added * np.nan_to_num(pue) * np.nan_to_num(
        cells.series_value(_f(rows, "do_grid_connection_capex")))
    series_rate = np.nanmax(rate, axis=-1, keepdims=True)
    crf = lambda life_years: cost.capital_recovery_factor(series_rate, life_years[:, None])
    capital = (fleet.standing(server_capex_spent.sum(axis=1) * crf(s_life), s_life)
               + fleet.standing(facility_spent * crf(f_life), f_life)
               + fleet.standing(grid_spent * crf(g_life), g_life))
    om = (cells.series_value(_f(rows, "do_server_om")) * fleet.standing(server_capex_spent.sum(axis=1), s_life)
          + cells.series_value(_f(rows, "do_facility_om")) * fleet.standing(facility_spent, f_life))
    energy = power.energy_per_year(power.facility_power(it_mean, pue))
    return {
        "available": available[:, 0, :],
        # the vintage history, for views that show the chain (the What-if sheet)
        "_bought_gpus": bought_gpus, "_server_capex_per_gpu": np.nan_to_num(
            cells.tier_value(_f(rows, "do_server_capex")[:, None])),
        "_facility_it_added": facility_it_added, "_it_mean": it_mean,
        "gpus": gpus.sum(axis=1),
        "busy_gpus": np.nan_to_num(busy_mean * gpus).sum(axis=1),
        "it_power": it_peak,
        "facility_power": power.facility_power(it_peak, pue),
        "energy": energy,
        "capital": capital,
        "operating": np.nan_to_num(om) + energy * cells.series_value(_f(rows, "electricity_price")),
    }


def _zeros(cells: Cells) -> np.ndarray:
    return np.zeros((cells.n_series, cells.n_years))


def _price_factor(rows, cells, change_column: str, year_column: str) -> np.ndarray:
    return cost.price_in_year(1.0, _f(rows, change_column), _f(rows, "year") - _f(rows, year_column))


def _serving_floor(rows, cells, offshore: dict) -> np.ndarray:
    """The labs' cost of serving each tier on the offshore fleet, with their markup [USD/yr],
    on the (S, T, Y) grid: the floor under API prices."""
    setting = lambda name: cells.series_value(_f(rows, f"fa_serving_{name}"))[:, None, :]
    per_gpu = cost.owner_cost_per_gpu_year(
        setting("server_capex"), setting("server_lifetime"), setting("server_om"),
        offshore["_it_w_per_gpu"], setting("facility_capex"), setting("facility_lifetime"),
        setting("facility_om"), setting("discount_rate"))
    return np.nan_to_num(cost.serving_cost_floor(
        offshore["_gpus_by_tier"], per_gpu, offshore["_energy_by_tier"],
        setting("electricity_price"), setting("markup")))


def frontier_api(rows, tables, cells, work) -> dict[str, np.ndarray]:
    """Buy frontier tokens abroad at each tier's list price on its own trend, never below the
    labs' cost of serving them with a markup (the floor); report the offshore fleet."""
    since = (_f(rows, "year") - _f(rows, "fa_price_year"))[:, None]
    factor = cost.price_in_year(1.0, np.stack([_f(rows, "fa_frontier_price_change"),
                                               _f(rows, "fa_open_price_change")], 1), since)
    cached = work["cached_input_share"][:, None]
    input_price = ((1.0 - cached) * np.stack([_f(rows, "fa_frontier_input_price"),
                                              _f(rows, "fa_open_input_price")], 1)
                   + cached * np.stack([_f(rows, "fa_frontier_cached_price"),
                                        _f(rows, "fa_open_cached_price")], 1))
    output_price = np.stack([_f(rows, "fa_frontier_output_price"), _f(rows, "fa_open_output_price")], 1)
    listed = cells.sum_tiers(cost.api_spend(work["input_tokens"], work["output_tokens"],
                                            input_price * factor, output_price * factor))
    tput = tier_throughput(rows, tables, work, "fa")
    offshore = _yearly_fleet(rows, tables, cells, work, tput, "fa_gpu", "fa_pue")
    floor = _serving_floor(rows, cells, offshore)
    paid = np.maximum(listed, floor)
    zero = _zeros(cells)
    return {
        "gpus": zero, "it_power": zero, "facility_power": zero, "energy": zero,
        "gpus_offshore": offshore["gpus"], "it_power_offshore": offshore["it_power"],
        "busy_gpus": zero, "busy_gpus_offshore": offshore["busy_gpus"],
        "facility_power_offshore": offshore["facility_power"], "energy_offshore": offshore["energy"],
        "co2_intensity_offshore": cells.series_value(_f(rows, "fa_grid_co2_intensity")),
        "capital": zero, "operating": paid.sum(axis=1), "domestic_tokens": zero,
        "floor_uplift": (paid - listed).sum(axis=1),
        "_api_listed": listed, "_api_floor": floor, "_throughput": tput,
    }


def rent_floor(rows: pd.DataFrame, tables: Tables) -> np.ndarray:
    """The least a provider rents a GPU for [USD/GPU/s], per row: the owner's cost of the GPU
    rented that year (its server price, its share of the facility, O&M, and the energy of a
    GPU-hour at full draw at the rental location's price) with the provider's markup."""
    gpu = _col(rows, "ho_gpu")
    watts = tables.gpu(gpu, "board_power") * _f(rows, "server_overhead")
    per_year = cost.owner_cost_per_gpu_year(
        _f(rows, "ho_server_capex"), _f(rows, "ho_floor_server_lifetime"), _f(rows, "ho_floor_server_om"),
        watts, _f(rows, "ho_floor_facility_capex"), _f(rows, "ho_floor_facility_lifetime"),
        _f(rows, "ho_floor_facility_om"), _f(rows, "ho_floor_discount_rate"))
    electricity = np.where(_f(rows, "ho_domestic") > 0.5, _f(rows, "electricity_price"),
                           _f(rows, "fa_serving_electricity_price"))
    return (1.0 + _f(rows, "ho_floor_markup")) * (
        per_year / SECONDS_PER_YEAR + watts * _f(rows, "ho_pue") * electricity)


def _rented_by_tier(rented: dict, year_round: np.ndarray) -> dict[str, np.ndarray]:
    """A rented fleet by tier (S, T, Y): a reserved baseline sized to the average load, topped
    up on demand to the peak-sized fleet for the peak hours (or, with `year_round`, the
    peak-sized fleet reserved all year), and what it holds and draws on average.

    The peak hours are those of a block profile with the load's energy: the top-up is held for
    ``mean / peak`` of the year (for one use case, working days x 24 h / peak-to-average), an
    upper bound on the hours a smoother load needs it.
    """
    peak_gpus, peak, mean = rented["_gpus_by_tier"], rented["_peak_load"], rented["_mean_load"]
    baseline = np.minimum(fleet.provisioned_gpus(mean, rented["_utilisation"], rented["_per_replica"],
                                                 rented["_per_server"], 0.0), peak_gpus)
    baseline = np.where(year_round, peak_gpus, baseline)
    burst = peak_gpus - baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        burst_share = np.where(peak > 0, mean / peak, 0.0)
    held = baseline + burst * burst_share
    watts = rented["_it_w_per_gpu"]
    with np.errstate(divide="ignore", invalid="ignore"):
        busy_held = np.where(held > 0, mean / held, 0.0)
        busy_peak = np.where(peak_gpus > 0, peak / peak_gpus, 0.0)
    it_mean = held * watts * power.draw_fraction(busy_held, rented["_idle"])
    it_peak = peak_gpus * watts * power.draw_fraction(busy_peak, rented["_idle"])
    pue = rented["_pue"][:, None, :]
    return {"baseline": baseline, "burst": burst, "burst_share": burst_share, "held": held,
            "busy": np.nan_to_num(mean), "gpus": peak_gpus, "it_power": np.nan_to_num(it_peak),
            "facility_power": power.facility_power(np.nan_to_num(it_peak), pue),
            "energy": power.energy_per_year(power.facility_power(np.nan_to_num(it_mean), pue))}


def _host_spend(rows, cells, work) -> np.ndarray:
    """Open-weight tokens bought per token from hosts, by tier (S, T, Y) [USD/yr] at list prices
    on the host trend (NaN for a tier with no host)."""
    since = (_f(rows, "year") - _f(rows, "ho_host_price_year"))[:, None]
    factor = cost.price_in_year(1.0, _f(rows, "ho_host_price_change")[:, None], since)
    price = lambda kind: np.stack([_f(rows, f"ho_frontier_host_{kind}_price"),
                                   _f(rows, f"ho_open_host_{kind}_price")], 1)
    cached = work["cached_input_share"][:, None]
    input_price = (1.0 - cached) * price("input") + cached * price("cached_input")
    spend = cost.api_spend(work["input_tokens"], work["output_tokens"], input_price * factor,
                           price("output") * factor)
    missing = cells.tier_value(np.isnan(spend).astype(float)) > 0
    return np.where(missing, np.nan, cells.sum_tiers(np.nan_to_num(spend)))


def hosted_open_weight(rows, tables, cells, work) -> dict[str, np.ndarray]:
    """Serve open-weight models on rented GPUs (a reserved baseline and on-demand burst, or a
    reserved fleet all year), or buy their tokens per token from hosts; `auto` takes the cheaper
    per tier and year. Rent never falls below the provider's cost of owning the GPU with its
    markup, nor a host's price below its cost of serving on that fleet."""
    tput = tier_throughput(rows, tables, work, "ho")
    rented = _yearly_fleet(rows, tables, cells, work, tput, "ho_gpu", "ho_pue")
    year_round = cells.series_value(_f(rows, "ho_year_round"))[:, None, :] > 0.5
    by_tier = _rented_by_tier(rented, year_round)
    market = cells.series_value(_f(rows, "ho_rental_price") * _price_factor(
        rows, cells, "ho_rental_price_change", "ho_rent_year"))[:, None, :]
    floor = cells.series_value(rent_floor(rows, tables))[:, None, :]
    ratio = cells.series_value(_f(rows, "ho_reserved_price_ratio"))[:, None, :]
    on_demand, reserved = np.fmax(market, floor), np.fmax(market * ratio, floor)
    # GPU-years held: the baseline all year, the burst for its share of the year
    base_s, burst_s = by_tier["baseline"], by_tier["burst"] * by_tier["burst_share"]
    rent = (base_s * reserved + burst_s * on_demand) * SECONDS_PER_YEAR
    at_market = (base_s * np.where(np.isnan(market), reserved, market * ratio)
                 + burst_s * np.where(np.isnan(market), on_demand, market)) * SECONDS_PER_YEAR
    # per token: the host's list price, never below its cost of serving the tokens on the same
    # generation kept at the target utilisation, rented at the floor (its cost with markup)
    host_listed = _host_spend(rows, cells, work)
    host_floor = by_tier["busy"] / rented["_utilisation"] * floor * SECONDS_PER_YEAR
    host = np.fmax(host_listed, np.nan_to_num(host_floor))
    supply = cells.series_value(_f(rows, "ho_supply"))[:, None, :]
    per_token = (supply == SUPPLY_CODES["per-token"]) | (
        (supply == SUPPLY_CODES["auto"]) & (np.nan_to_num(host, nan=np.inf) < rent))
    paid = np.where(per_token, host, rent)
    uplift = np.where(per_token, host - np.where(np.isnan(host_listed), host, host_listed), rent - at_market)
    domestic = cells.series_value(_f(rows, "ho_domestic"))[:, None, :] > 0.5
    zero = _zeros(cells)
    result = {"capital": zero, "operating": paid.sum(axis=1), "domestic_tokens": zero, "_throughput": tput,
              "floor_uplift": uplift.sum(axis=1), "_per_token": per_token,
              "_rent_market": market[:, 0, :], "_rent_floor": floor[:, 0, :],
              "_rent_by_tier": rent, "_host_by_tier": host, "_rented": by_tier,
              "co2_intensity_offshore": cells.series_value(_f(rows, "fa_grid_co2_intensity"))}
    # rented capacity is not the country's own, wherever it stands (no domestic share); tokens
    # bought from a host are served abroad on its fleet
    at_home = domestic & ~per_token
    for name, key in (("gpus", "gpus"), ("busy_gpus", "busy"), ("held_gpus", "held"),
                      ("it_power", "it_power"), ("facility_power", "facility_power"), ("energy", "energy")):
        result[name] = np.where(at_home, by_tier[key], 0.0).sum(axis=1)
        result[f"{name}_offshore"] = np.where(at_home, 0.0, by_tier[key]).sum(axis=1)
    return result


def domestic_buildout(rows, tables, cells, work, bridges: dict[str, dict]) -> dict[str, np.ndarray]:
    """Own GPUs at home from the arrival year; the bridge option serves the years before."""
    reference = tier_throughput(rows, tables, work, "do", "do_gpu")
    bought = tier_throughput(rows, tables, work, "do", "do_gpu_bought")
    own = _domestic_fleet(rows, tables, cells, work, reference, bought)
    before = 1.0 - own["available"]
    bridge_name = cells.series_value(pd.Series(_col(rows, "do_bridge")).map(
        {name: i for i, name in enumerate(OPTIONS)}).to_numpy(dtype=float))
    tokens = cells.sum_series(work["input_tokens"] + work["output_tokens"])
    result = {"_throughput": reference, "_arrival": own["available"],
              **{name: value for name, value in own.items() if name.startswith("_")}}
    names = ("gpus", "busy_gpus", "it_power", "facility_power", "energy", "gpus_offshore",
             "busy_gpus_offshore", "it_power_offshore", "facility_power_offshore", "energy_offshore",
             "capital", "operating", "floor_uplift", "domestic_tokens")
    for name in names:
        bridged = sum(np.where(bridge_name == OPTIONS.index(option), bridge.get(name, 0.0), 0.0)
                      for option, bridge in bridges.items())
        mine = own.get(name, 0.0) if name != "domestic_tokens" else tokens * own["available"]
        result[name] = mine + before * bridged
    result["co2_intensity_offshore"] = bridges["frontier-api"]["co2_intensity_offshore"]
    return result


def evaluate(rows: pd.DataFrame, tables: Tables) -> tuple[Cells, dict[str, dict[str, np.ndarray]], dict]:
    """Run the whole chain on rows; return the grid, each option's quantities and the demand."""
    cells = Cells.from_rows(rows)
    work = workload(rows)
    results = {"frontier-api": frontier_api(rows, tables, cells, work),
               "hosted-open-weight": hosted_open_weight(rows, tables, cells, work)}
    results["domestic-buildout"] = domestic_buildout(rows, tables, cells, work, dict(results))
    tokens_in = cells.sum_series(work["input_tokens"])
    tokens_out = cells.sum_series(work["output_tokens"])
    shared = {
        "tokens": tokens_in + tokens_out, "input_tokens": tokens_in, "output_tokens": tokens_out,
        "requests": cells.sum_series(work["requests"]),
        "peak_output_rate": cells.sum_series(work["peak_output_rate"]),
        "consumption": cells.series_value(_f(rows, "electricity_consumption")),
        "peak_demand": cells.series_value(_f(rows, "peak_demand")),
        "co2_intensity": cells.series_value(_f(rows, "grid_co2_intensity")),
        "discount_rate": cells.series_value(_f(rows, "discount_rate")),
        "year": np.broadcast_to(cells.first_grid_year + np.arange(cells.n_years, dtype=float),
                                (cells.n_series, cells.n_years)),
        "first_year": cells.series_value(_f(rows, "first_year")),
        "present": cells.present(),
        "work": work, "cells": cells,
    }
    for quantities in results.values():
        quantities.setdefault("floor_uplift", _zeros(cells))
        total = quantities["capital"] + quantities["operating"]
        quantities["total"] = total
        factor = cost.discount_factor(shared["discount_rate"], shared["year"] - shared["first_year"])
        quantities["npv"] = np.cumsum(np.nan_to_num(total * factor), axis=-1)
        quantities["per_mtok"] = cost.cost_per_million_tokens(total, shared["tokens"])
        quantities["per_request"] = cost.cost_per_request(total, shared["requests"])
        held = (quantities.get("held_gpus", quantities["gpus"])
                + quantities.get("held_gpus_offshore", quantities.get("gpus_offshore", 0.0)))
        quantities["utilisation"] = fleet.utilisation(
            quantities["busy_gpus"] + quantities.get("busy_gpus_offshore", 0.0), held)
        quantities["share_consumption"] = power.share(quantities["energy"], shared["consumption"])
        quantities["share_peak"] = power.share(quantities["facility_power"], shared["peak_demand"])
        quantities["domestic_share"] = power.share(quantities["domestic_tokens"], shared["tokens"])
        quantities["co2"] = power.emissions(quantities["energy"], shared["co2_intensity"])
        quantities["co2_offshore"] = power.emissions(quantities["energy_offshore"],
                                                     quantities["co2_intensity_offshore"])
    return cells, results, shared
