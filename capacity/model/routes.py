"""Supply routes: each one way to serve both tiers of the demand it is given.

A route takes the rows, the lookup tables, the grid and a `work` dict (the demand stage's
arrays, already scaled to the share of each row and tier the route serves) and returns its
quantities on the (series, year) grid, in canonical units: GPUs, power and energy on national
soil and abroad, capital and operating cost. ``api``: `frontier_api`; ``hosted``:
`hosted_open_weight`; ``owned``: `owned` (with `owned_fleet`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.units import SECONDS_PER_YEAR
from .cells import Cells, _f, combined_codes, distinct_rows, ids
from .lookup import Tables, model_on_gpu, recording
from .rows import SUPPLY_CODES
from .stages import cost, fleet, power
from .stages.throughput import Throughput

def request_shapes(rows: pd.DataFrame, work: dict) -> tuple[np.ndarray, int]:
    """A code per row for its request shape and engine settings that every option shares
    (tokens per call, cached share, HBM share, batch and step limits): `cells.combined_codes`."""
    return combined_codes([work["input_per_call"], work["output_per_call"], work["cached_input_share"],
                           _f(rows, "usable_hbm_fraction"), _f(rows, "max_batch_size"),
                           _f(rows, "max_tokens_per_step")])


_THROUGHPUT_MEMO: dict[tuple, tuple] = {}
"""Throughput of recent distinct settings, keyed by their values (`_throughput_key`): the
chunks of a sweep repeat the same request shapes, computed once for all of them."""
MEMO_ROWS = 4096
"""Distinct settings above this many are not memoised (each draw's shapes are its own)."""


def _throughput_key(tables: Tables, ids: list[np.ndarray], settings: dict) -> tuple | None:
    """The memo key of a throughput evaluation: the tables' identity and every input's values;
    None (not memoised) for many distinct settings, and while the look-ups are being recorded
    (`lookup.recording_reads`: a remembered result would hide the properties it read)."""
    if len(ids[0]) > MEMO_ROWS or recording():
        return None
    return ((id(tables),) + tuple(tuple(column.tolist()) for column in ids)
            + tuple((name, values.tobytes()) for name, values in settings.items()))


def tier_throughput(rows: pd.DataFrame, tables: Tables, work: dict, prefix: str,
                    gpu_column: str | None = None, shapes: tuple | None = None) -> Throughput:
    """Throughput for both tiers of an option's settings, shape (rows, tiers).

    Rows with the same settings and request shape (every point of a demand sweep, and most
    draws of most use cases) are computed once: the stage runs on the distinct rows.
    `shapes` is `request_shapes` of the rows when already known."""
    text = [ids(rows, f"{prefix}_frontier_model"), ids(rows, f"{prefix}_open_model"),
            ids(rows, gpu_column or f"{prefix}_gpu"), ids(rows, f"{prefix}_precision"),
            ids(rows, f"{prefix}_engine")]
    own = [_f(rows, f"{prefix}_max_tpot"), _f(rows, f"{prefix}_gpus_per_replica")]
    members, inverse = distinct_rows(text + own + [shapes if shapes is not None else request_shapes(rows, work)])
    numbers = {"input_tokens": work["input_per_call"], "output_tokens": work["output_per_call"],
               "usable_hbm_fraction": _f(rows, "usable_hbm_fraction"), "max_tpot_s": own[0],
               "gpus_per_replica": own[1], "cached_input_share": work["cached_input_share"],
               "max_batch_size": _f(rows, "max_batch_size"),
               "max_tokens_per_step": _f(rows, "max_tokens_per_step")}
    frontier, open_, gpu, precision, engine = (np.asarray(column[members]) for column in text)
    settings = {name: values[members] for name, values in numbers.items()}
    memo_key = _throughput_key(tables, [frontier, open_, gpu, precision, engine], settings)
    found = _THROUGHPUT_MEMO.get(memo_key) if memo_key is not None else None
    if found is not None and found[0] is tables:
        result = found[1]
    else:
        result = model_on_gpu(tables, np.stack([frontier, open_], 1), gpu[:, None], precision[:, None],
                              engine=engine[:, None], **{name: values[:, None] for name, values in settings.items()})
        if memo_key is not None:
            if len(_THROUGHPUT_MEMO) >= 64:
                _THROUGHPUT_MEMO.clear()
            _THROUGHPUT_MEMO[memo_key] = (tables, result)
    # np.take: a fancy index over the first axis of a 2-d array is ~15x slower here
    return Throughput(**{name: np.take(getattr(result, name), inverse, axis=0)
                         for name in Throughput.__dataclass_fields__})


def _fleet_settings(rows, tables, cells, tput: Throughput, gpu_column: str, pue_column: str) -> dict:
    """What sizes and powers a yearly fleet besides its load, on the grid: the same for every
    option's share of the demand, so computed once per evaluation (`Cells.once`)."""
    def make():
        gpu = ids(rows, gpu_column)
        per_replica = cells.tier_value(tput.gpus_per_replica)
        per_server = cells.tier_value(tables.gpu(gpu, "gpus_per_server")[:, None])
        board = cells.tier_value(tables.gpu(gpu, "board_power")[:, None])
        overhead = cells.tier_setting(rows, "server_overhead")
        return {"per_replica": np.nan_to_num(per_replica, nan=1.0), "per_server": np.nan_to_num(per_server, nan=1.0),
                "utilisation": cells.tier_setting(rows, "target_utilisation"),
                "redundancy": cells.tier_setting(rows, "redundancy"),
                "board": np.nan_to_num(board), "overhead": overhead,
                "it_w_per_gpu": np.nan_to_num(board) * overhead,
                "idle": cells.tier_setting(rows, "idle_power_fraction"),
                "pue": cells.series_setting(rows, pue_column)}
    return cells.once(("fleet", id(rows), id(tables), id(tput), gpu_column, pue_column), make)


def _yearly_fleet(rows, tables, cells, work, tput: Throughput, gpu_column: str, pue_column: str):
    """A fleet sized each year for that year's peak (rented, offshore or pooled): GPUs, power,
    energy; `gpu_column` and `pue_column` name the rows' columns of its GPU and PUE."""
    peak = cells.sum_tiers(fleet.gpu_seconds_per_second(work["peak_output_rate"],
                                                        tput.output_tokens_per_s_per_gpu))
    mean = cells.sum_tiers(fleet.gpu_seconds_per_second(work["average_output_rate"],
                                                        tput.output_tokens_per_s_per_gpu))
    setting = _fleet_settings(rows, tables, cells, tput, gpu_column, pue_column)
    gpus = fleet.provisioned_gpus(peak, setting["utilisation"], setting["per_replica"], setting["per_server"],
                                  setting["redundancy"])
    board, overhead, idle, pue = setting["board"], setting["overhead"], setting["idle"], setting["pue"]
    with np.errstate(divide="ignore", invalid="ignore"):
        busy_peak = np.where(gpus > 0, peak / gpus, 0.0)
        busy_mean = np.where(gpus > 0, mean / gpus, 0.0)
    it_peak = power.it_power(gpus, board, overhead, power.draw_fraction(busy_peak, idle))
    it_mean = power.it_power(gpus, board, overhead, power.draw_fraction(busy_mean, idle))
    return {
        # by tier (S, T, Y), for prices that follow the fleet of each tier
        "_gpus_by_tier": gpus, "_it_w_per_gpu": setting["it_w_per_gpu"],
        "_peak_load": peak, "_mean_load": mean, "_utilisation": setting["utilisation"],
        "_per_replica": setting["per_replica"], "_per_server": setting["per_server"], "_idle": idle, "_pue": pue,
        "_energy_by_tier": power.energy_per_year(power.facility_power(np.nan_to_num(it_mean),
                                                                      pue[:, None, :])),
        "gpus": gpus.sum(axis=1),
        "busy_gpus": np.nan_to_num(busy_mean * gpus).sum(axis=1),
        "it_power": np.nan_to_num(it_peak).sum(axis=1),
        "facility_power": power.facility_power(np.nan_to_num(it_peak).sum(axis=1), pue),
        "energy": power.energy_per_year(power.facility_power(np.nan_to_num(it_mean).sum(axis=1), pue)),
    }


def owned_fleet(rows, tables, cells, size_work, load_work, reference: Throughput,
                bought: Throughput, capacity: np.ndarray | None = None):
    """Owned fleet: capacity from the arrival year, bought in vintages that retire and are
    replaced by the generation then current; facility and grid built to the running peak.

    The fleet is sized for `size_work`'s peak (a reserve included) and carries `load_work`.
    `capacity` (reference-GPU units, (S, T, Y)), when given, is the standing capacity path to
    hold instead (a limited one, which may fall when retirements outrun what may be bought)."""
    available = cells.series_value((_f(rows, "year") >= _f(rows, "do_arrival_year")).astype(float))
    available = np.nan_to_num(available)[:, None, :]
    per_gpu_ref, per_gpu_new = reference.output_tokens_per_s_per_gpu, bought.output_tokens_per_s_per_gpu
    load_ref = cells.sum_tiers(fleet.gpu_seconds_per_second(size_work["peak_output_rate"], per_gpu_ref))
    load_new = cells.sum_tiers(fleet.gpu_seconds_per_second(size_work["peak_output_rate"], per_gpu_new))
    carried_ref = cells.sum_tiers(fleet.gpu_seconds_per_second(load_work["peak_output_rate"], per_gpu_ref))
    mean_ref = cells.sum_tiers(fleet.gpu_seconds_per_second(load_work["average_output_rate"], per_gpu_ref))
    util = cells.tier_setting(rows, "target_utilisation")
    redundancy = cells.tier_setting(rows, "redundancy")
    # capacity counted in reference-GPU equivalents; q = what one GPU bought that year is worth
    required = np.nan_to_num(load_ref / util * (1.0 + redundancy)) * available
    with np.errstate(divide="ignore", invalid="ignore"):
        worth = np.where(load_new > 0, load_ref / load_new, 1.0)
    worth = np.nan_to_num(worth, nan=1.0)
    gpu_bought = ids(rows, "do_gpu_bought")
    per_server = np.nan_to_num(cells.tier_value(tables.gpu(gpu_bought, "gpus_per_server")[:, None]), nan=1.0)
    # settings constant over a series' years: take them from any year the series has
    life = np.nanmax(cells.tier_setting(rows, "do_server_lifetime"), axis=-1)
    if capacity is None:
        purchases_ref = fleet.replacement_purchases(required, life)
    else:
        purchases_ref = fleet.replacement_purchases(capacity, life, keep_peak=False)
    bought_gpus = np.ceil(purchases_ref / worth / per_server - 1e-9) * per_server
    gpus = fleet.standing(bought_gpus, life)
    capacity_ref = fleet.standing(bought_gpus * worth, life)
    h100e = np.nan_to_num(cells.tier_value(tables.h100_equivalents(gpu_bought)[:, None]))
    board = np.nan_to_num(cells.tier_value(tables.gpu(gpu_bought, "board_power")[:, None]))
    overhead = cells.tier_setting(rows, "server_overhead")
    nameplate = fleet.standing(power.it_power(bought_gpus, board, overhead), life)
    idle = cells.tier_setting(rows, "idle_power_fraction")
    with np.errstate(divide="ignore", invalid="ignore"):
        busy_peak = np.where(capacity_ref > 0, carried_ref * available / capacity_ref, 0.0)
        busy_mean = np.where(capacity_ref > 0, mean_ref * available / capacity_ref, 0.0)
    it_peak = np.nan_to_num(nameplate * power.draw_fraction(np.minimum(busy_peak, 1.0), idle)).sum(axis=1)
    it_mean = np.nan_to_num(nameplate * power.draw_fraction(np.minimum(busy_mean, 1.0), idle)).sum(axis=1)
    server_capex_spent = bought_gpus * np.nan_to_num(
        cells.tier_setting(rows, "do_server_capex"))

    pue = cells.series_setting(rows, "do_pue")
    rate = cells.series_setting(rows, "do_discount_rate")
    s_life = life[:, 0]
    f_life = np.nanmax(cells.series_setting(rows, "do_facility_lifetime"), axis=-1)
    g_life = np.nanmax(cells.series_setting(rows, "do_grid_lifetime"), axis=-1)
    nameplate_total = np.nan_to_num(nameplate).sum(axis=1)
    facility_it_added = np.diff(np.maximum.accumulate(nameplate_total, axis=-1), axis=-1, prepend=0.0)
    facility_spent = facility_it_added * np.nan_to_num(cells.series_setting(rows, "do_facility_capex"))
    grid_spent = facility_it_added * np.nan_to_num(pue) * np.nan_to_num(
        cells.series_setting(rows, "do_grid_connection_capex"))
    series_rate = np.nanmax(rate, axis=-1, keepdims=True)
    crf = lambda life_years: cost.capital_recovery_factor(series_rate, life_years[:, None])
    capital = (fleet.standing(server_capex_spent.sum(axis=1) * crf(s_life), s_life)
               + fleet.standing(facility_spent * crf(f_life), f_life)
               + fleet.standing(grid_spent * crf(g_life), g_life))
    om = (cells.series_setting(rows, "do_server_om") * fleet.standing(server_capex_spent.sum(axis=1), s_life)
          + cells.series_setting(rows, "do_facility_om") * fleet.standing(facility_spent, f_life))
    energy = power.energy_per_year(power.facility_power(it_mean, pue))
    return {
        "available": available[:, 0, :],
        # the vintage history, for views that show the chain (the What-if sheet)
        "_bought_gpus": bought_gpus, "_server_capex_per_gpu": np.nan_to_num(
            cells.tier_setting(rows, "do_server_capex")),
        "_facility_it_added": facility_it_added, "_it_mean": it_mean,
        # what the limits act on: capacity held (reference units), H100-equivalents bought and
        # standing, facility load built (running peak of nameplate x PUE)
        "_capacity_ref": capacity_ref, "_held_ref": np.maximum.accumulate(required, axis=-1) if capacity is None else capacity,
        "_h100e_bought": (bought_gpus * h100e).sum(axis=1),
        "_h100e_standing": fleet.standing(bought_gpus * h100e, life).sum(axis=1),
        "_facility_built": np.maximum.accumulate(nameplate_total, axis=-1) * np.nan_to_num(pue),
        "_life": s_life,
        "gpus": gpus.sum(axis=1),
        "busy_gpus": np.nan_to_num(busy_mean * gpus).sum(axis=1),
        "it_power": it_peak,
        "facility_power": power.facility_power(it_peak, pue),
        "energy": energy,
        "capital": capital,
        "operating": np.nan_to_num(om) + energy * cells.series_setting(rows, "electricity_price"),
    }


def _zeros(cells: Cells) -> np.ndarray:
    return np.zeros((cells.n_series, cells.n_years))


def _price_factor(rows, cells, change_column: str, year_column: str) -> np.ndarray:
    """A price's trend factor per row since its year (once per evaluation: every option's the same)."""
    return cells.once(("price factor", id(rows), change_column, year_column), lambda: cost.price_in_year(
        1.0, _f(rows, change_column), _f(rows, "year") - _f(rows, year_column)))


def _serving_floor(rows, cells, offshore: dict) -> np.ndarray:
    """The labs' cost of serving each tier on the offshore fleet, with their markup [USD/yr],
    on the (S, T, Y) grid: the floor under API prices."""
    setting = lambda name: cells.series_setting(rows, f"fa_serving_{name}")[:, None, :]
    per_gpu = cost.owner_cost_per_gpu_year(
        setting("server_capex"), setting("server_lifetime"), setting("server_om"),
        offshore["_it_w_per_gpu"], setting("facility_capex"), setting("facility_lifetime"),
        setting("facility_om"), setting("discount_rate"))
    return np.nan_to_num(cost.serving_cost_floor(
        offshore["_gpus_by_tier"], per_gpu, offshore["_energy_by_tier"],
        setting("electricity_price"), setting("markup")))


def frontier_api(rows, tables, cells, work, tput: Throughput | None = None,
                 price: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Buy frontier tokens abroad at each tier's list price on its own trend (times `price`,
    per row: a price shock), never below the labs' cost of serving them with a markup (the
    floor); report the offshore fleet."""
    def list_prices():          # the same for every option's share: once per evaluation
        since = (_f(rows, "year") - _f(rows, "fa_price_year"))[:, None]
        cached = work["cached_input_share"][:, None]
        return {"trend": cost.price_in_year(1.0, np.stack([_f(rows, "fa_frontier_price_change"),
                                                           _f(rows, "fa_open_price_change")], 1), since),
                "input": ((1.0 - cached) * np.stack([_f(rows, "fa_frontier_input_price"),
                                                     _f(rows, "fa_open_input_price")], 1)
                          + cached * np.stack([_f(rows, "fa_frontier_cached_price"),
                                               _f(rows, "fa_open_cached_price")], 1)),
                "output": np.stack([_f(rows, "fa_frontier_output_price"), _f(rows, "fa_open_output_price")], 1)}
    listing = cells.once(("api list prices", id(rows), id(work["cached_input_share"])), list_prices)
    factor = listing["trend"] if price is None else listing["trend"] * price[:, None]
    listed = cells.sum_tiers(cost.api_spend(work["input_tokens"], work["output_tokens"],
                                            listing["input"] * factor, listing["output"] * factor))
    tput = tput if tput is not None else tier_throughput(rows, tables, work, "fa")
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
    gpu = ids(rows, "ho_gpu")
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


def _host_spend(rows, cells, work, price: np.ndarray) -> np.ndarray:
    """Open-weight tokens bought per token from hosts, by tier (S, T, Y) [USD/yr] at list prices
    on the host trend (NaN for a tier with no host)."""
    def list_prices():          # the same for every option's share: once per evaluation
        since = (_f(rows, "year") - _f(rows, "ho_host_price_year"))[:, None]
        listed = lambda kind: np.stack([_f(rows, f"ho_frontier_host_{kind}_price"),
                                        _f(rows, f"ho_open_host_{kind}_price")], 1)
        cached = work["cached_input_share"][:, None]
        return {"trend": cost.price_in_year(1.0, _f(rows, "ho_host_price_change")[:, None], since),
                "input": (1.0 - cached) * listed("input") + cached * listed("cached_input"),
                "output": listed("output")}
    listing = cells.once(("host list prices", id(rows), id(work["cached_input_share"])), list_prices)
    factor = listing["trend"] * price[:, None]
    spend = cost.api_spend(work["input_tokens"], work["output_tokens"], listing["input"] * factor,
                           listing["output"] * factor)
    missing = cells.tier_value(np.isnan(spend).astype(float)) > 0
    return np.where(missing, np.nan, cells.sum_tiers(np.nan_to_num(spend)))


def hosted_open_weight(rows, tables, cells, work, tput: Throughput | None = None,
                       price: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Serve open-weight models on rented GPUs (a reserved baseline and on-demand burst, or a
    reserved fleet all year), or buy their tokens per token from hosts; `auto` takes the cheaper
    per tier and year. Rent never falls below the provider's cost of owning the GPU with its
    markup, nor a host's price below its cost of serving on that fleet. `price` (per row)
    multiplies market rent and host list prices (a price shock)."""
    tput = tput if tput is not None else tier_throughput(rows, tables, work, "ho")
    rented = _yearly_fleet(rows, tables, cells, work, tput, "ho_gpu", "ho_pue")
    year_round = cells.series_setting(rows, "ho_year_round")[:, None, :] > 0.5
    by_tier = _rented_by_tier(rented, year_round)
    shocked = np.ones(len(rows)) if price is None else price
    market = cells.series_value(_f(rows, "ho_rental_price") * shocked * _price_factor(
        rows, cells, "ho_rental_price_change", "ho_rent_year"))[:, None, :]
    floor = cells.once(("rent floor", id(rows), id(tables)),
                       lambda: cells.series_value(rent_floor(rows, tables))[:, None, :])
    ratio = cells.series_setting(rows, "ho_reserved_price_ratio")[:, None, :]
    on_demand, reserved = np.fmax(market, floor), np.fmax(market * ratio, floor)
    # GPU-years held: the baseline all year, the burst for its share of the year
    base_s, burst_s = by_tier["baseline"], by_tier["burst"] * by_tier["burst_share"]
    rent = (base_s * reserved + burst_s * on_demand) * SECONDS_PER_YEAR
    at_market = (base_s * np.where(np.isnan(market), reserved, market * ratio)
                 + burst_s * np.where(np.isnan(market), on_demand, market)) * SECONDS_PER_YEAR
    # per token: the host's list price, never below its cost of serving the tokens on the same
    # generation kept at the target utilisation, rented at the floor (its cost with markup)
    host_listed = _host_spend(rows, cells, work, shocked)
    host_floor = by_tier["busy"] / rented["_utilisation"] * floor * SECONDS_PER_YEAR
    host = np.fmax(host_listed, np.nan_to_num(host_floor))
    supply = cells.series_setting(rows, "ho_supply")[:, None, :]
    per_token = (supply == SUPPLY_CODES["per-token"]) | (
        (supply == SUPPLY_CODES["auto"]) & (np.nan_to_num(host, nan=np.inf) < rent))
    paid = np.where(per_token, host, rent)
    uplift = np.where(per_token, host - np.where(np.isnan(host_listed), host, host_listed), rent - at_market)
    domestic = cells.series_setting(rows, "ho_domestic")[:, None, :] > 0.5
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


def owned(rows, tables, cells, size_work, load_work, throughput: dict,
          capacity: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Own GPUs at home from the arrival year (what comes before is the option's bridge, given
    to it as demand of another route); `owned_fleet` says how it is sized and carried."""
    reference, bought = throughput["owned"], throughput["owned-bought"]
    own = owned_fleet(rows, tables, cells, size_work, load_work, reference, bought, capacity)
    zero = _zeros(cells)
    tokens = cells.sum_series(load_work["input_tokens"] + load_work["output_tokens"])
    result = {"_throughput": reference, "_arrival": own["available"], **own,
              "gpus_offshore": zero, "busy_gpus_offshore": zero, "it_power_offshore": zero,
              "facility_power_offshore": zero, "energy_offshore": zero, "floor_uplift": zero,
              "domestic_tokens": tokens * own["available"]}
    del result["available"]
    return result


def pooled(rows, tables, cells, work, tput: Throughput, settings: pd.DataFrame) -> dict[str, np.ndarray]:
    """A share of a public or consortium machine: the country's allocation of its GPUs from
    its first year (the machine renewed at the end of each life at the same cost); it pays its
    cost share of the machine's annualised capex and O&M whether it uses it or not, and the
    energy its own work draws. `settings` holds the
    route's settings per row (``po_*``, from `options.pooled`). The fleet reported is the
    allocation; what it cannot carry the caller sends elsewhere (`options.apply_limits`)."""
    rows = pd.concat([rows.reset_index(drop=True), settings.reset_index(drop=True)], axis=1)
    used = _yearly_fleet(rows, tables, cells, work, tput, "po_gpu", "po_pue")
    setting = lambda name: cells.series_setting(rows, f"po_{name}")
    year = cells.series_setting(rows, "year")
    open_years = year >= setting("first_year")
    allocation = np.where(open_years, setting("allocation_share") * setting("gpus"), 0.0)
    yearly = setting("capex") * cost.capital_recovery_factor(setting("discount_rate"), setting("lifetime"))
    fixed = np.where(open_years, setting("cost_share") * (yearly + setting("om") * setting("capex")), 0.0)
    domestic = setting("domestic") > 0.5
    price = np.where(domestic, cells.series_setting(rows, "electricity_price"),
                     cells.series_setting(rows, "fa_serving_electricity_price"))
    energy = np.nan_to_num(used["energy"])
    zero = _zeros(cells)
    at_home = lambda value: np.where(domestic, value, 0.0)
    abroad = lambda value: np.where(domestic, 0.0, value)
    return {"capital": np.nan_to_num(fixed), "operating": energy * np.nan_to_num(price),
            "gpus": at_home(allocation), "gpus_offshore": abroad(allocation),
            "held_gpus": at_home(allocation), "held_gpus_offshore": abroad(allocation),
            "busy_gpus": at_home(used["busy_gpus"]), "busy_gpus_offshore": abroad(used["busy_gpus"]),
            "it_power": at_home(used["it_power"]), "it_power_offshore": abroad(used["it_power"]),
            "facility_power": at_home(used["facility_power"]),
            "facility_power_offshore": abroad(used["facility_power"]),
            "energy": at_home(energy), "energy_offshore": abroad(energy), "floor_uplift": zero,
            "domestic_tokens": at_home(cells.sum_series(work["input_tokens"] + work["output_tokens"])),
            "_needed_gpus": used["gpus"], "_allocation": allocation, "_throughput": tput}

