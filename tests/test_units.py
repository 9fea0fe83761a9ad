import math

import pytest

from capacity.data.units import SECONDS_PER_YEAR, convert, to_magnitude, ureg


def test_domain_units_are_defined():
    assert ureg("1 Mtok").to("token").magnitude == 1e6
    assert ureg("2 USD/GPU/h").to("USD/GPU/s").magnitude == pytest.approx(2 / 3600)
    assert ureg("12 MUSD/MW").to("USD/W").magnitude == pytest.approx(12.0)
    assert ureg("1 PFLOP/s").to("FLOP/s").magnitude == 1e15


def test_bare_number_is_read_in_the_default_unit():
    assert to_magnitude(0.12, "USD/J", default_unit="USD/kWh") == pytest.approx(0.12 / 3.6e6)
    assert to_magnitude("0.12 USD/kWh", "USD/J", default_unit="USD/kWh") == pytest.approx(0.12 / 3.6e6)
    assert to_magnitude("30 %", "") == pytest.approx(0.3)
    assert to_magnitude("-30 %/yr", "1/yr") == pytest.approx(-0.3)


def test_same_quantity_in_other_units_gives_the_same_number():
    assert to_magnitude("3 yr", "yr") == pytest.approx(to_magnitude("36 month", "yr"))
    assert to_magnitude("700 W", "W") == to_magnitude("0.7 kW", "W")
    assert to_magnitude("115 TWh/yr", "W") == pytest.approx(115e12 / (SECONDS_PER_YEAR / 3600))


@pytest.mark.parametrize("text", ["12 W", "3 kg", "five"])
def test_wrong_dimension_is_refused_with_what_was_expected(text):
    with pytest.raises(ValueError, match=r"expected a quantity in USD/Mtok"):
        to_magnitude(text, "USD/Mtok")


def test_convert_scales_arrays():
    # pint < 0.25 multiplies the unit scales in the order of the first lookup it caches (after
    # a value in USD/MW is read as USD/W: 1e-6 * 1e-3 * 1e3), so the factor can be 1 ulp off
    assert convert(2.0, "W", "MW") == pytest.approx(2e-6, rel=1e-15, abs=0)
    assert math.isclose(convert(1.0, "J/yr", "TWh/yr"), 1 / 3.6e15)
