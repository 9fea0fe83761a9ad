"""Demand: from users, adoption and intensity to tokens per year and token rates.

Every function is elementwise over rows (scenario x region x year x use case); units in brackets.
"""

from __future__ import annotations

import numpy as np

from ...data.units import SECONDS_PER_DAY, SECONDS_PER_YEAR


def logistic_adoption(year, saturation, midpoint_year, steepness_per_year):
    """Share of potential users active in `year` [1]: ``s / (1 + exp(-k (year - t0)))``."""
    return saturation / (1.0 + np.exp(-steepness_per_year * (year - midpoint_year)))


ADOPTION_OBSERVED_YEAR = 2025
"""The year the library's adoption curves (`use_cases.csv` adoption_2025) and the countries' AI
user shares were observed."""


def country_midpoint(saturation, midpoint_year, steepness, ratio):
    """Adoption midpoints moved so that a country's adoption in the observed year is `ratio`
    times the curve's [yr]: from ``A = s / (1 + exp(-k (y - t0)))``, the curve through
    ``A' = ratio A`` (kept below 99 % of saturation) has ``t0' = y + ln(s / A' - 1) / k``. The
    country then converges on the same saturation, later (ratio < 1) or sooner. A NaN ratio (no
    AI user share) leaves the midpoint as it is."""
    observed = saturation / (1.0 + np.exp(-steepness * (ADOPTION_OBSERVED_YEAR - midpoint_year)))
    target = np.minimum(ratio * observed, 0.99 * saturation)
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = ADOPTION_OBSERVED_YEAR + np.log(saturation / target - 1.0) / steepness
    return np.where(np.isfinite(moved), moved, midpoint_year)


def active_users(user_base, user_share, adoption):
    """Active users [1] = base population or workforce x potential-user share x adoption."""
    return user_base * user_share * adoption


def tokens_per_request(base_tokens, growth_per_year, years_of_growth):
    """Tokens per request in a year [token]: ``base * (1 + g) ** n`` after `n` years of growth
    (the years since the first, up to the years the growth lasts)."""
    return base_tokens * (1.0 + growth_per_year) ** years_of_growth


def mean_context(first_context, growth_per_turn, turns, dispersion=1.0):
    """Mean context a call of a session reads [token]: calls i = 1..T read ``C0 + g (i - 1)``;
    weighted by calls over sessions of varying length T, ``C0 + g (D E[T] - 1) / 2`` with
    ``D = E[T^2] / E[T]^2`` (1 when every session has E[T] calls). One call: ``C0``."""
    return first_context + growth_per_turn * (dispersion * turns - 1.0) / 2.0


def requests_per_year(users, requests_per_user_per_day, working_days_per_year):
    """Requests per year [1/yr] = users x requests per working day x working days per year."""
    return users * requests_per_user_per_day * working_days_per_year


def average_rate(tokens_per_year):
    """Mean token rate over the whole year [token/s]."""
    return tokens_per_year / SECONDS_PER_YEAR


def peak_rate(tokens_per_year, working_days_per_year, peak_to_average):
    """Peak token rate [token/s]: the mean rate of a working day times its peak-to-average ratio.

    Demand is carried on working days, so a working day's mean rate is
    ``tokens_per_year / working_days / 86400 s``; the busiest hour runs `peak_to_average` times
    that.
    """
    return tokens_per_year / working_days_per_year / SECONDS_PER_DAY * peak_to_average
