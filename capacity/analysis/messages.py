"""Key messages: the few sentences a minister reads first, written from a plan's results.

Every message is computed from `Plan.results` (and, with draws, `Plan.uncertainty`; the
plausibility flags of `Plan.implausible`): which option is cheapest in the first, a middle and
the last year and by how much; the facility power each option puts on national soil and its
share of national electricity; when domestic capacity arrives; what binds or goes unserved;
what is implausible; and with draws the P5-P95 range and the probability each option is the
cheapest. The workbook's Summary and the briefing show the same messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LIMIT_NAMES = {"Limits|GPU allocation|Binding": "the GPU allocation limit",
               "Limits|Grid connection|Binding": "the grid connection limit",
               "Limits|Build rate|Binding": "the build-rate limit"}
TIE = 1e-9
"""Options whose costs agree to this relative tolerance are equally cheap (the same supply,
e.g. a build-out still served by its bridge)."""
UNSERVED_NOTICE = 0.5
"""Unserved demand [% of tokens] from which a message says so (smaller is rounding)."""


@dataclass(frozen=True)
class Message:
    """One key message: its topic, the series it speaks of, its text, and the figures in it
    (what tests and the briefing compare with `Plan.results`)."""

    topic: str                      # cheapest, power, arrival, limits, implausible, range
    scenario: str
    region: str
    text: str
    figures: dict = field(default_factory=dict)
    warning: bool = False           # shown in the flag style (implausible, unserved)


def money(usd: float) -> str:
    """An amount of USD for a sentence: ``1.24 BUSD`` from a billion, else ``342 MUSD``."""
    if not math.isfinite(usd):
        return "n/a"
    unit, scaled = ("BUSD", usd / 1e9) if abs(usd) >= 1e9 else ("MUSD", usd / 1e6)
    if abs(scaled) >= 100:
        return f"{scaled:,.0f} {unit}"
    return f"{scaled:.3g} {unit}" if abs(scaled) >= 1 else f"{scaled:.2f} {unit}"


def percent(value: float) -> str:
    """A share [%] for a sentence, to the precision it deserves: ``14 %``, ``1.3 %``,
    ``0.19 %``, ``< 0.1 %``."""
    if not math.isfinite(value):
        return "n/a"
    if value >= 10:
        return f"{value:,.0f} %"
    if value >= 1:
        return f"{value:.1f} %"
    return f"{value:.2f} %" if value >= 0.1 else "< 0.1 %"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def picked_years(years: list[int]) -> list[int]:
    """The first, a middle and the last year of a horizon (what the Summary shows)."""
    return sorted({years[0], years[len(years) // 2], years[-1]})


def _span(years) -> str:
    years = sorted(int(y) for y in years)
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


def key_messages(plan, prefixed: bool | None = None) -> list[Message]:
    """The key messages of every (scenario, region) of `plan`, in the scenario's order; each
    text starts with its series (``realist, NLD: ``) when `prefixed` (default: when the plan
    has more than one series)."""
    results = plan.results
    out: list[Message] = []
    series = list(dict.fromkeys(zip(results["scenario"], results["region"])))
    label_series = len(series) > 1 if prefixed is None else prefixed
    flags = plan.implausible
    for scenario, region in series:
        data = results[(results["scenario"] == scenario) & (results["region"] == region)]
        wide = data.set_index(["variable", "option", "year"])["value"].to_dict()
        options = [o for o in plan.options if o in set(data["option"])]
        years = sorted(int(y) for y in data["year"].unique())
        prefix = f"{scenario}, {region}: " if label_series else ""

        def value(variable: str, option: str, year: int) -> float:
            return float(wide.get((variable, option, year), math.nan))

        for year in picked_years(years):
            costs = pd.Series({o: value("Cost|Total", o, year) for o in options}).dropna()
            if costs.empty:
                continue
            # an option that leaves demand unserved is cheap by not serving it: the ranking is
            # of the options that serve all demand (of all, if none does)
            unserved = pd.Series({o: value("Demand|Unserved|Share", o, year) for o in costs.index})
            serving = costs[~(unserved > UNSERVED_NOTICE)]
            short = costs[unserved > UNSERVED_NOTICE]
            ranked = (serving if len(serving) else costs).sort_values(kind="stable")
            cheapest, lowest = ranked.index[0], float(ranked.iloc[0])
            tied = [o for o, c in ranked.items() if math.isclose(c, lowest, rel_tol=TIE, abs_tol=0.0)]
            rest = ranked.drop(tied)
            if len(tied) > 1:
                text = (f"{prefix}In {year} {_and(tied)} are the cheapest options at {money(lowest)} "
                        f"a year (the same supply that year)")
            else:
                text = f"{prefix}In {year} {cheapest} is the cheapest option at {money(lowest)} a year"
            figures = {"year": year, "cheapest": cheapest, "tied": tied, "cost": lowest}
            if len(rest):
                runner, second = rest.index[0], float(rest.iloc[0])
                more = (second / lowest - 1.0) * 100.0 if lowest > 0 else math.inf
                text += f"; the next, {runner}, costs {money(second - lowest)} ({more:,.0f} %) more"
                figures.update(next=runner, next_cost=second)
            if len(serving):
                cheaper = short[short < lowest].sort_values(kind="stable")
                for option, cost in cheaper.items():
                    text += (f"; {option} costs less ({money(cost)}) but leaves "
                             f"{unserved[option]:.0f} % of demand unserved")
            else:
                text += f" — but it leaves {unserved[cheapest]:.0f} % of demand unserved"
                figures["unserved_share"] = float(unserved[cheapest])
            out.append(Message("cheapest", scenario, region, text + ".", figures))

        last = years[-1]
        powers = {o: value("Power|Facility", o, last) for o in options}
        parts = []
        for option in options:
            mw, share = powers[option], value("Grid|Share of consumption", option, last)
            peak = value("Grid|Share of peak demand", option, last)
            if not np.isfinite(mw):
                continue
            parts.append(f"{option} {mw:,.0f} MW ({percent(share)} of national electricity, "
                         f"{percent(peak)} of the peak)" if mw >= 0.5 else f"{option} none")
        if parts:
            out.append(Message("power", scenario, region,
                               f"{prefix}Facility power on national soil in {last}: " + "; ".join(parts) + ".",
                               {"year": last, "power": powers}))

        domestic = data[data["variable"] == "Sovereignty|Domestic share"]
        owning = [o for o in options if (domestic[domestic["option"] == o]["value"] > 0).any()
                  or o == "domestic-buildout"]
        arrivals = {}
        for option in owning:
            served = domestic[(domestic["option"] == option) & (domestic["value"] > 0)]
            arrivals[option] = int(served["year"].min()) if len(served) else None
        if arrivals:
            said = [f"{o} from {y}" if y is not None else f"{o} never within the horizon"
                    for o, y in arrivals.items()]
            out.append(Message("arrival", scenario, region,
                               f"{prefix}Domestic capacity serves demand: " + "; ".join(said) + ".",
                               {"arrival": arrivals}))

        binding, unserved_parts = [], []
        for option in options:
            for variable, name in LIMIT_NAMES.items():
                bound = [y for y in years if value(variable, option, y) > 0.5]
                if bound:
                    binding.append(f"{name} binds for {option} in {_span(bound)}")
            shares = {y: value("Demand|Unserved|Share", option, y) for y in years}
            worst = max(shares, key=lambda y: (shares[y] if np.isfinite(shares[y]) else -np.inf, -y))
            if shares[worst] > UNSERVED_NOTICE:
                unserved_parts.append(f"{option} leaves up to {shares[worst]:.0f} % of demand unserved ({worst})")
        if binding or unserved_parts:
            text = "; ".join(binding + unserved_parts)
            out.append(Message("limits", scenario, region, prefix + text[0].upper() + text[1:] + ".",
                               {"binding": binding, "unserved": unserved_parts}, warning=True))
        else:
            out.append(Message("limits", scenario, region,
                               f"{prefix}No limit binds and every option serves all demand.", {}))

        for flag in flags[(flags["scenario"] == scenario) & (flags["region"] == region)].itertuples(index=False):
            out.append(Message("implausible", scenario, region,
                               f"{prefix}Implausible: {flag.option} from {flag.first_year}: {flag.check}, "
                               f"up to {flag.largest:,.0f} %.",
                               {"option": flag.option, "largest": float(flag.largest)}, warning=True))

        if plan.uncertainty is not None:
            out.extend(_range_messages(plan, scenario, region, options, last, prefix))
    return out


def _range_messages(plan, scenario: str, region: str, options, year: int, prefix: str) -> list[Message]:
    quantiles = plan.quantiles
    q = quantiles[(quantiles["scenario"] == scenario) & (quantiles["region"] == region)
                  & (quantiles["variable"] == "Cost|Total") & (quantiles["year"] == year)]
    parts, figures = [], {}
    for option in options:
        mine = q[q["option"] == option].set_index("quantile")["value"]
        if {"p5", "p95"} <= set(mine.index):
            parts.append(f"{option} {money(mine['p5'])} to {money(mine['p95'])}")
            figures[option] = (float(mine["p5"]), float(mine["p95"]))
    out = []
    if parts:
        out.append(Message("range", scenario, region,
                           f"{prefix}Cost in {year}, P5 to P95 over {plan.uncertainty.draws:,} draws: "
                           + "; ".join(parts) + ".", figures))
    cheapest = plan.uncertainty.cheapest
    mine = cheapest[(cheapest["scenario"] == scenario) & (cheapest["year"] == year)]
    if len(mine):
        ranked = mine.sort_values("probability", ascending=False, kind="stable")
        said = [f"{r.option} {r.probability:.0%}" for r in ranked.itertuples(index=False) if r.probability > 0]
        out.append(Message("range", scenario, region,
                           f"{prefix}Probability of being the cheapest in {year}: " + ", ".join(said) + ".",
                           dict(zip(ranked["option"], ranked["probability"].astype(float)))))
    return out
