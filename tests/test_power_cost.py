import numpy as np
import pytest

from capacity.data.units import SECONDS_PER_YEAR
from capacity.model.stages import cost, power


def test_capital_recovery_factor_reference_values():
    # standard annuity tables: 5 % over 10 years -> 0.12950; 0 % -> 1/n
    assert cost.capital_recovery_factor(0.05, 10) == pytest.approx(0.129505, rel=1e-5)
    assert cost.capital_recovery_factor(0.0, 4) == pytest.approx(0.25)
    # paying the CRF every year for n years repays the principal at the rate: sum of PVs == 1
    r, n = 0.035, 20
    pv = sum(cost.capital_recovery_factor(r, n) / (1 + r) ** t for t in range(1, n + 1))
    assert pv == pytest.approx(1.0)


def test_price_trend_and_discounting():
    assert cost.price_in_year(10.0, -0.3, 2) == pytest.approx(4.9)
    assert cost.discount_factor(0.05, 2) == pytest.approx(1 / 1.1025)


def test_api_spend_and_cost_per_million_tokens():
    spend = cost.api_spend(2e12, 1e12, 1.25e-6, 10e-6)   # 2 T input at 1.25 USD/Mtok, 1 T output at 10
    assert spend == pytest.approx(2.5e6 + 10e6)
    assert cost.cost_per_million_tokens(spend, 3e12) == pytest.approx(12.5e6 / 3e6)


def test_rental_is_all_year():
    assert cost.rental_cost(100, 2.0 / 3600) == pytest.approx(100 * 2.0 * SECONDS_PER_YEAR / 3600)


def test_watts_per_gpu_chain():
    # an H100 at 700 W, server overhead 1.5, half busy with 25 % idle draw, PUE 1.2
    draw = power.draw_fraction(0.5, 0.25)
    assert draw == pytest.approx(0.625)
    it = power.it_power(1000, 700.0, 1.5, draw)
    assert it == pytest.approx(656_250.0)
    assert power.facility_power(it, 1.2) == pytest.approx(787_500.0)
    assert power.energy_per_year(1.0) == SECONDS_PER_YEAR
    assert power.share(np.array([1.0]), np.array([0.0]))[0] != power.share(np.array([1.0]), np.array([0.0]))[0]
