"""The package's one pint registry and the conversions at the boundary.

Inside the model every quantity is a float64 magnitude in a canonical unit: token, s, W, J,
USD, byte, FLOP, GPU; planning durations in years (`yr`). pint is used only here, where text
becomes numbers (scenario files, assumption tables, overrides) and where numbers become report
units (exports).
"""

from __future__ import annotations

import math
import re
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
        try:
            magnitude = float(value)
        except OverflowError:
            raise ValueError(f"found a {len(str(abs(value)))}-digit number; expected a finite number") from None
        if not math.isfinite(magnitude):
            raise ValueError(f"found {value!r}; expected a finite number")
        if default_unit is not None and default_unit != expected_unit:
            magnitude = float(Quantity(magnitude, unit(default_unit)).to(unit(expected_unit)).magnitude)
    elif isinstance(value, str):
        number, unit_text = split_quantity(value, default_unit or expected_unit)
        try:
            given = unit(unit_text) if unit_text else None
        except (pint.errors.PintError, SyntaxError, TypeError, ValueError, AttributeError, KeyError,
                IndexError, Exception) as exc:        # pint's parser raises tokenizer errors too
            raise ValueError(f"found {value!r}: {unit_text!r} is not a unit ({type(exc).__name__}); "
                             f"expected a quantity in {describe_unit(expected_unit)}") from None
        if given is None or given == ureg.dimensionless and not unit_text:
            given = unit(default_unit or expected_unit)
        parsed = Quantity(number, given)
        try:
            magnitude = float(parsed.to(unit(expected_unit)).magnitude)
        except pint.errors.DimensionalityError:
            raise ValueError(
                f"found {value!r} ({parsed.dimensionality}); expected a quantity in "
                f"{describe_unit(expected_unit)}") from None
    else:
        raise ValueError(f"found {value!r}; expected a quantity in {describe_unit(expected_unit)}")
    if not math.isfinite(magnitude):
        raise ValueError(f"found {value!r}; expected a finite number")
    return magnitude


NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""A number as the files take it: digits with a decimal point, an optional exponent."""
ACCEPTED = "numbers like 0.15, 1200, 1.5e6 or -0.3, with a point for decimals and no thousands separators"


def split_quantity(text: str, expected_unit: str = "") -> tuple[float, str]:
    """``'0.15 USD/kWh'`` -> ``(0.15, 'USD/kWh')``: one number, then at most a unit. Refuses, with
    the reading it refused, what people write that a parser would misread: a decimal comma
    (``0,15``), thousands separators (``18 000 000``, ``18,000,000``), and anything else that
    is not one number and a unit (``2=3``, ``1 ((``)."""
    raw = text
    text = text.strip().replace("_", "")
    expected = (f"; expected a quantity in {expected_unit}: {ACCEPTED}, then the unit" if expected_unit
                else f"; expected {ACCEPTED}")
    if re.match(r"^[+-]?\d+,\d+(\s|$|[A-Za-z%])", text) and not re.match(r"^[+-]?\d{1,3}(,\d{3})+(\s|$)", text):
        raise ValueError(f"found {raw!r}, a decimal comma (read {text.split()[0].replace(',', '.')!r}?)" + expected)
    if re.match(r"^[+-]?\d{1,3}([,\s\u00a0\u2009\u202f'’]\d{3})+(\s|$|[A-Za-z%])", text):
        joined = re.sub(r"[,\s\u00a0\u2009\u202f'’]", "", re.match(
            r"^[+-]?\d{1,3}([,\s\u00a0\u2009\u202f'’]\d{3})+", text).group(0))
        if "," in text.split()[0] and re.match(r"^[+-]?\d{1,3},\d{3}(\s|$|[A-Za-z%])", text):
            decimal = text.split()[0].replace(",", ".")
            raise ValueError(f"found {raw!r}: is the comma a thousands separator ({joined}) or a decimal "
                             f"comma ({decimal})?" + expected)
        raise ValueError(f"found {raw!r}, a number with thousands separators (read {joined}?)" + expected)
    found = NUMBER.match(text)
    if found is None:
        raise ValueError(f"found {raw!r}, which does not start with a number" + expected)
    rest = text[found.end():].strip()
    if rest and ((re.match(r"^[\d.,=;]", rest) and not re.match(r"^1\s*/", rest)) or re.search(r"[=;,]", rest)):
        raise ValueError(f"found {raw!r}, which is not one number and a unit" + expected)
    number = float(found.group(0))
    if not math.isfinite(number):
        raise ValueError(f"found {raw!r}; expected a finite number")
    return number, rest


def convert(magnitude, from_unit: str, to_unit: str):
    """Scale a magnitude (float or array) from one unit to another of the same dimension."""
    factor = float(Quantity(1.0, unit(from_unit)).to(unit(to_unit)).magnitude)
    return magnitude * factor
