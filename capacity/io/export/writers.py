"""A `Plan` written to a file, in each format the CLI and `Plan.to_*` offer. Every file is
replaced atomically: a failed export leaves an existing file untouched."""

from __future__ import annotations

from pathlib import Path

from ...data.errors import InputError
from .files import atomic_write
from .tabular import neutralised, to_csv, to_iamc, to_json, write_iamc

FORMATS = ("xlsx", "json", "csv", "iamc")
"""Output formats: the results workbook, the tidy table as JSON or CSV, the IAMC wide table."""
SUFFIXES = {".xlsx": "xlsx", ".json": "json", ".csv": "csv"}
FORMAT_SUFFIXES = {"xlsx": (".xlsx",), "json": (".json",), "csv": (".csv",), "iamc": (".csv", ".xlsx")}
"""The file suffixes each format may be written to; a path with another known suffix is refused
(a path with an unknown suffix, or none, takes the format as given)."""


def format_for(path: str | Path | None, fmt: str | None) -> str:
    """The format to write: `fmt` when given, else the path's suffix (``.xlsx``, ``.json``,
    ``.csv``); no path means the workbook. A suffix that names no format is refused."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise InputError(None, "format", repr(fmt), "one of " + ", ".join(FORMATS))
        suffix = Path(path).suffix.lower() if path is not None and str(path) != "-" else ""
        if suffix in SUFFIXES and suffix not in FORMAT_SUFFIXES[fmt]:
            raise InputError(f"-o {path}", "format", f"--format {fmt} with a {suffix} file",
                             f"a path ending in {' or '.join(FORMAT_SUFFIXES[fmt])} (or "
                             f"--format {SUFFIXES[suffix]})")
        return fmt
    if path is None or str(path) == "-":
        return "xlsx"
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(str(path), None, f"the file extension {suffix or '(none)'!r}",
                         "a path ending in " + ", ".join(SUFFIXES) + " (formats "
                         + ", ".join(FORMATS) + "; IAMC: --format iamc with .csv or .xlsx)")
    return SUFFIXES[suffix]


def model_name() -> str:
    """The IAMC ``model`` column: this tool and its version."""
    from ... import __version__
    return f"capacity {__version__}"


def write_excel(plan, path: str | Path, robustness=None) -> Path:
    from .workbook import write_workbook
    return atomic_write(path, lambda temporary: write_workbook(plan, temporary, robustness))


def write_robustness(result, path: str | Path, fmt: str) -> Path:
    """The robustness matrix as a workbook (its Robustness sheet), CSV or JSON."""
    if fmt == "xlsx":
        from .workbook import write_robustness_workbook
        return atomic_write(path, lambda temporary: write_robustness_workbook(result, temporary))
    return write_text(result.to_csv() if fmt == "csv" else result.to_json(), path)


def write_text(text: str, path: str | Path) -> Path:
    return atomic_write(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def write_csv(plan, path: str | Path, sep: str = ",", decimal: str = ".") -> Path:
    text = to_csv(plan.table_with_quantiles, sep, decimal)      # checked before anything is written
    return write_text(text, path)


def json_text(plan) -> str:
    """The results as JSON; with draws, the quantiles and probabilities beside them."""
    if plan.uncertainty is None:
        return to_json(plan.results)
    u = plan.uncertainty
    return to_json(plan.results, {"draws": u.draws, "seed": u.seed,
                                  "quantiles": u.quantiles, "cheapest_probability": u.cheapest,
                                  "risks": u.risks})


def write_json(plan, path: str | Path) -> Path:
    return write_text(json_text(plan), path)


def iamc_results(plan):
    """The results and, with draws, the quantiles as variables with a quantile suffix
    (``Cost|Total|P95``), as the IAMC community writes probabilistic results."""
    if plan.uncertainty is None:
        return plan.results
    import pandas as pd
    quantiles = plan.quantiles.assign(variable=plan.quantiles["variable"] + "|"
                                      + plan.quantiles["quantile"].str.upper())
    return pd.concat([plan.results, quantiles[plan.results.columns]], ignore_index=True)


def iamc_csv(plan) -> str:
    return neutralised(to_iamc(iamc_results(plan), model_name())).to_csv(index=False, lineterminator="\n")


def write_iamc_file(plan, path: str | Path) -> Path:
    return write_iamc(iamc_results(plan), path, model_name())


def write_sensitivity(output: str, swings, indices, path: str | Path) -> Path:
    """The tornado (and Sobol indices) as a workbook with a native bar chart."""
    from .workbook import write_sensitivity_workbook
    return atomic_write(path, lambda temporary: write_sensitivity_workbook(output, swings, indices, temporary))
