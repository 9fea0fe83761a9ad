"""Cost: API spend, GPU rental, annualised capital, energy and O&M, per-token cost and NPV.

Elementwise over rows; canonical units: USD, token, s, years for asset lives.
"""

from __future__ import annotations

import numpy as np

from ...data.units import SECONDS_PER_YEAR


def price_in_year(base_price, change_per_year, years_since_base):
    """A price that changes by a constant share a year: ``p0 * (1 + c) ** (year - base year)``."""
    return base_price * (1.0 + change_per_year) ** years_since_base


def api_spend(input_tokens, output_tokens, input_price, output_price):
    """Spend on an API [USD/yr] = input tokens x input price + output tokens x output price."""
    return input_tokens * input_price + output_tokens * output_price


def rental_cost(gpus, price_per_gpu_s):
    """Yearly rent of a fleet reserved all year [USD/yr] = GPUs x price [USD/GPU/s] x 1 yr."""
    return gpus * price_per_gpu_s * SECONDS_PER_YEAR


def capital_recovery_factor(rate, life_years):
    """Share of an investment to pay each year to recover it with interest [1/yr].

    ``CRF = r (1 + r)^n / ((1 + r)^n - 1)``, and ``1 / n`` when ``r = 0``
    (e.g. Short, Packey & Holt, "A Manual for the Economic Evaluation of Energy Efficiency and
    Renewable Energy Technologies", NREL/TP-462-5173, 1995).
    """
    rate = np.asarray(rate, dtype=float)
    life = np.asarray(life_years, dtype=float)
    growth = (1.0 + rate) ** life
    with np.errstate(divide="ignore", invalid="ignore"):
        crf = rate * growth / (growth - 1.0)
    return np.where(np.abs(rate) < 1e-12, 1.0 / life, crf)


def discount_factor(rate, years_since_start):
    """Present value of one dollar paid `years_since_start` years after the first year [1]."""
    return (1.0 + rate) ** (-np.asarray(years_since_start, dtype=float))


def cost_per_million_tokens(total_cost, tokens):
    """Cost per million tokens [USD/Mtok] = total cost [USD/yr] / tokens [token/yr] x 10^6."""
    return np.divide(total_cost * 1e6, tokens, out=np.full(np.broadcast(total_cost, tokens).shape,
                                                             np.nan), where=tokens > 0)


def cost_per_request(total_cost, requests):
    """Cost per request [USD] = total cost [USD/yr] / requests [1/yr]: the demand-weighted
    average over use cases, so longer (reasoning) requests show as a higher cost per task."""
    return np.divide(total_cost, requests, out=np.full(np.broadcast(total_cost, requests).shape,
                                                       np.nan), where=requests > 0)


def owner_cost_per_gpu_year(server_capex_per_gpu, server_life, server_om, it_w_per_gpu,
                            facility_capex_per_w, facility_life, facility_om, rate):
    """What owning one GPU costs a year before energy [USD/GPU/yr]: its server and its share of
    the facility (per W of IT nameplate), each annualised with the capital recovery factor,
    plus O&M as a yearly share of each capex:
    ``S (CRF(r, n_s) + o_s) + W F (CRF(r, n_f) + o_f)``."""
    server = server_capex_per_gpu * (capital_recovery_factor(rate, server_life) + server_om)
    facility = it_w_per_gpu * facility_capex_per_w * (
        capital_recovery_factor(rate, facility_life) + facility_om)
    return server + facility


def serving_cost_floor(gpus, cost_per_gpu_year, energy_j_per_year, electricity_price_per_j, markup):
    """The least a seller of tokens charges for what a fleet serves [USD/yr]: the owner's cost
    of the fleet (GPUs x yearly cost per GPU + energy x price) times ``1 + markup``."""
    return (1.0 + markup) * (gpus * cost_per_gpu_year + energy_j_per_year * electricity_price_per_j)
