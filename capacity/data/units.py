"""The package's one pint registry and the conversions at the boundary.

Inside the model every quantity is a float64 magnitude in a canonical unit: token, s, W, J,
USD, byte, FLOP, GPU; planning durations in years (`yr`). pint is used only here, where text
becomes numbers (scenario files, assumption tables, overrides) and where numbers become report
units (exports).
"""

from __future__ import annotations

import math
from functools import lru_cache

import pint

ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
ureg.define("token = [token] = tok")
ureg.define("Mtok = 1e6 * token")
ureg.define("ktok = 1e3 * token")
ureg.define("GPU = [gpu]")
ureg.define("USD = [currency] = dollar_us")
ureg.define("FLOP = [flop]")
ureg.define("request = [request]")
Quantity = ureg.Quantity

SECONDS_PER_YEAR = float(ureg("year").to("s").magnitude)  # Julian year, 365.25 d
SECONDS_PER_DAY = 86400.0


@lru_cache(maxsize=512)
def unit(text: str) -> pint.Unit:
    """Parse a unit string with the package registry (empty string: dimensionless)."""
    return ureg.parse_units(text) if text.strip() else ureg.dimensionless


def describe_unit(text: str) -> str:
    """'USD/Mtok' -> 'USD/Mtok ([currency] / [token])' for error messages."""
    dims = str(unit(text).dimensionality)
    if not text.strip():
        return "a pure number"
    return f"{text} ({dims})" if dims != "dimensionless" else text


def to_magnitude(value: object, expected_unit: str, *, default_unit: str | None = None) -> float:
    """Convert a number or a 'number unit' text to a float in `expected_unit`.

    A bare number is read in `default_unit` (or `expected_unit` when none is given).
    Raises ValueError with a message saying what was found and what was expected.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"found {value!r}; expected a quantity in {describe_unit(expected_unit)}")
    if isinstance(value, (int, float)):
        magnitude = float(value)
        if default_unit is not None and default_unit != expected_unit:
            magnitude = float(Quantity(magnitude, unit(default_unit)).to(unit(expected_unit)).magnitude)
    elif isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            parsed = ureg(text)
        except (pint.errors.PintError, SyntaxError, TypeError, ValueError, AttributeError,
                KeyError) as exc:
            raise ValueError(f"found {value!r}, which is not a number with a unit ({exc}); "
                             f"expected a quantity in {describe_unit(expected_unit)}") from None
        if not isinstance(parsed, pint.Quantity):
            parsed = Quantity(float(parsed), unit(default_unit or expected_unit))
        elif parsed.dimensionless and parsed.units == ureg.dimensionless and default_unit:
            parsed = Quantity(parsed.magnitude, unit(default_unit))
        try:
            magnitude = float(parsed.to(unit(expected_unit)).magnitude)
        except pint.errors.DimensionalityError:
            raise ValueError(
                f"found {value!r} ({parsed.dimensionality}); expected a quantity in "
                f"{describe_unit(expected_unit)}") from None
    else:
        raise ValueError(f"found {value!r}; expected a quantity in {describe_unit(expected_unit)}")
    if math.isnan(magnitude):
        raise ValueError(f"found {value!r}; expected a number")
    return magnitude


def convert(magnitude, from_unit: str, to_unit: str):
    """Scale a magnitude (float or array) from one unit to another of the same dimension."""
    factor = float(Quantity(1.0, unit(from_unit)).to(unit(to_unit)).magnitude)
    return magnitude * factor
