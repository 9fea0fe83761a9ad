"""The briefing: two to four printed pages a minister reads, as one self-contained HTML file.

The question, the options compared, the key messages (`capacity.analysis.messages`), the key
numbers of the last year (with P5-P95 when the run made draws), charts (cost per year, facility
power, share of national electricity; the regret of each option over the robustness matrix;
the tornado of the cheapest option's cost), the assumptions that decide the answer with their
sources, and the limitations. Charts are drawn with matplotlib and embedded as PNG data URIs,
so the page needs no network to be viewed; `write_pdf` prints it with a headless Chromium.
Every key number carries its exact value in ``data-*`` attributes, so a test can compare the
page with `Plan.results`.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ...analysis.messages import key_messages, money, percent

OPTION_TEXT = {
    "frontier-api": "buy frontier models through foreign APIs: cheap to start, but access can be "
                    "restricted, rationed or repriced from abroad",
    "hosted-open-weight": "run open-weight models (months behind the frontier) on rented GPUs or "
                          "per token from hosts",
    "domestic-buildout": "build national datacentres and buy the GPUs: capital, energy, a grid "
                         "connection and years of lead time; rented capacity bridges until it arrives",
    "hedged": "a portfolio: part frontier API, part domestic capacity, with fallbacks if access is cut",
}
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables `write_pdf` looks for, in order."""
COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")

LIMITATIONS = [
    "Demand is a scenario, not a forecast: the worldviews span it, and the ranges of its inputs "
    "are drawn when the run makes draws.",
    "Throughput per GPU comes from a roofline model calibrated on published serving measurements; "
    "where a run lies outside them it says so (below).",
    "Prices are list prices of their source dates; negotiated, reserved and future prices differ.",
    "Grid, build-rate and GPU-allocation limits are the scenario's; the tool does not model the "
    "electricity system behind the national share it reports.",
]


def _chart(draw) -> str:
    """A matplotlib figure drawn by `draw(axes)` as a PNG data URI."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt
    figure, axes = plt.subplots(figsize=(4.6, 2.7), dpi=130)
    try:
        draw(axes)
        axes.spines[["top", "right"]].set_visible(False)
        axes.grid(axis="y", color="#dddddd", linewidth=0.6)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    finally:
        plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _series(plan, variable: str, scenario: str, region: str) -> pd.DataFrame:
    r = plan.results
    data = r[(r["scenario"] == scenario) & (r["region"] == region) & (r["variable"] == variable)]
    return data.pivot_table(index="year", columns="option", values="value", sort=False)


def _band(plan, variable: str, scenario: str, region: str, option: str):
    if plan.uncertainty is None:
        return None
    q = plan.quantiles
    mine = q[(q["scenario"] == scenario) & (q["region"] == region) & (q["variable"] == variable)
             & (q["option"] == option)]
    wide = mine.pivot_table(index="year", columns="quantile", values="value")
    return wide if {"p5", "p95"} <= set(wide.columns) else None


def _line_chart(plan, variable, scenario, region, scale, ylabel, kind="line") -> str:
    data = _series(plan, variable, scenario, region) * scale
    options = [o for o in plan.options if o in data.columns]

    def draw(axes):
        width = 0.8 / max(len(options), 1)
        for i, option in enumerate(options):
            colour = COLOURS[i % len(COLOURS)]
            if kind == "bar":
                axes.bar(data.index + (i - (len(options) - 1) / 2) * width, data[option], width,
                         label=option, color=colour)
                continue
            axes.plot(data.index, data[option], label=option, color=colour, linewidth=1.8)
            band = _band(plan, variable, scenario, region, option)
            if band is not None:
                axes.fill_between(band.index, band["p5"] * scale, band["p95"] * scale, color=colour,
                                  alpha=0.15, linewidth=0)
        axes.set_ylabel(ylabel)
        axes.set_xticks(list(data.index))
        axes.tick_params(axis="x", labelsize=8)
        axes.legend(fontsize=7, frameon=False, ncol=2)
    return _chart(draw)


def _regret_chart(robustness) -> str:
    summary = robustness.summary

    def draw(axes):
        colours = ["#548235" if c else "#8497b0" for c in summary["choice"]]
        axes.barh(summary["option"], summary["max_regret"] / 1e9, color=colours)
        axes.invert_yaxis()
        axes.set_xlabel("largest regret [BUSD of present value]")
    return _chart(draw)


def _tornado_chart(table: pd.DataFrame, scale: float, unit: str) -> str:
    table = table.head(10).iloc[::-1]

    def draw(axes):
        base = float(table["base"].iloc[0]) * scale
        low, high = table["output_at_low"] * scale, table["output_at_high"] * scale
        names = [name.replace(":", " ") for name in table["input"]]
        axes.barh(names, low - base, left=base, color="#8497b0", label="input at its low")
        axes.barh(names, high - base, left=base, color="#c55a11", label="input at its high")
        axes.axvline(base, color="black", linewidth=0.8)
        axes.tick_params(axis="y", labelsize=6.5)
        axes.set_xlabel(unit)
        axes.legend(fontsize=7, frameon=False)
    return _chart(draw)


def _number(value: float, text: str, note: str = "", **keys) -> str:
    """A table cell showing `text` with the exact `value` and what it is in data attributes;
    `note` (a P5–P95 range) on a line of its own, free to wrap."""
    attributes = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in keys.items())
    below = f"<br><span class='band'>{html.escape(note)}</span>" if note else ""
    return f'<td class="num" {attributes} data-value="{float(value)!r}">{html.escape(text)}{below}</td>'


def _key_numbers(plan, scenario: str, region: str, year: int) -> str:
    r = plan.results
    mine = r[(r["scenario"] == scenario) & (r["region"] == region) & (r["year"] == year)]
    wide = mine.pivot_table(index="variable", columns="option", values="value", sort=False)
    options = [o for o in plan.options if o in wide.columns]
    rows = [("Cost|Total", "Cost per year", money),
            ("Cost|Per million tokens", "Cost per million tokens", lambda v: f"{v:,.3f} USD"),
            ("Capacity|GPUs", "GPUs on national soil", lambda v: f"{v:,.0f}"),
            ("Power|Facility", "Facility power on national soil", lambda v: f"{v:,.0f} MW"),
            ("Grid|Share of consumption", "Share of national electricity", percent),
            ("Sovereignty|Domestic share", "Tokens served on national soil", percent),
            ("Demand|Unserved|Share", "Demand unserved", percent)]
    head = "".join(f"<th>{html.escape(o)}</th>" for o in options)
    body = []
    for variable, label, show in rows:
        cells = []
        for option in options:
            value = float(wide.loc[variable, option])
            text, note = show(value), ""
            if variable == "Cost|Total":
                band = _band(plan, variable, scenario, region, option)
                if band is not None and year in band.index:
                    note = f"P5–P95 {money(band.loc[year, 'p5'])} to {money(band.loc[year, 'p95'])}"
            cells.append(_number(value, text, note, variable=variable, option=option, year=year,
                                 scenario=scenario, region=region))
        body.append(f"<tr><th class='row'>{html.escape(label)}</th>{''.join(cells)}</tr>")
    return (f"<table class='numbers'><caption>Key numbers in {year}: {html.escape(scenario)}, "
            f"{html.escape(region)}</caption><tr><th></th>{head}</tr>{''.join(body)}</table>")


def _deciding(tornado: pd.DataFrame, output: str, scale: float, unit: str) -> str:
    rows = []
    for record in tornado.head(8).itertuples(index=False):
        rows.append(f"<tr><td>{html.escape(str(record.input))}</td>"
                    f"<td class='num'>{record.output_at_low * scale:,.0f} to {record.output_at_high * scale:,.0f}</td>"
                    f"<td>{html.escape(str(record.quality))}</td><td class='source'>{html.escape(str(record.source))}</td></tr>")
    return (f"<table class='deciding'><caption>The assumptions that move {html.escape(output)} most "
            f"(each from its low to its high, {unit})</caption><tr><th>assumption</th><th>{unit}</th>"
            f"<th>quality</th><th>source</th></tr>{''.join(rows)}</table>")


STYLE = """
@page { size: A4; margin: 16mm 15mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #1a1a1a; max-width: 180mm; margin: auto; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 5mm 0 2mm; color: #1f4e79; }
h2, h3, caption { break-after: avoid; page-break-after: avoid; }   /* a heading stays with what it heads */
p.lead { color: #444; } ul { padding-left: 5mm; } li { margin: 1mm 0; }
li.warning { color: #9c0006; font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; font-size: 8.5pt; page-break-inside: avoid; }
caption { text-align: left; font-weight: bold; margin-bottom: 1mm; }
th, td { border-bottom: 1px solid #ddd; padding: 1mm 1.5mm; vertical-align: top; }
th { background: #dde5f0; text-align: right; } th.row, td.source { text-align: left; }
td.num { text-align: right; white-space: nowrap; }
td.num .band { white-space: normal; font-size: 7.5pt; color: #555; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm; }
figure { margin: 0; page-break-inside: avoid; } figure img { width: 100%; }
h3 { font-size: 10pt; margin: 2mm 0 0; }
figcaption { font-size: 8.5pt; color: #444; }
.small { font-size: 8pt; color: #555; }
"""


def briefing_html(plan, robustness=None, tornado: pd.DataFrame | None = None,
                  tornado_output: str | None = None) -> str:
    """The briefing of `plan` as one self-contained HTML page (see the module's docstring)."""
    results = plan.results
    scenario, region = results.iloc[0][["scenario", "region"]]
    year = plan.years[-1]
    name = plan.scenario.name
    description = " ".join(str(getattr(plan.scenario, "description", "") or "").split())
    messages = key_messages(plan, prefixed=False)
    charted = results[(results["scenario"] == scenario) & (results["region"] == region)
                      & (results["variable"] == "Cost|Total")]["value"]
    money_unit, factor = ("BUSD", 1e-9) if charted.max() >= 1e10 else ("MUSD", 1e-6)
    parts = [f"<h1>{html.escape(name)}: how should the country get its AI?</h1>",
             f"<p class='lead'>{html.escape(description)}</p>" if description else "",
             f"<p class='small'>capacity briefing, {date.today().isoformat()}; "
             f"worldviews {', '.join(html.escape(s) for s in dict.fromkeys(results['scenario']))}; "
             f"years {plan.years[0]}–{year}.</p>",
             "<h2>The question</h2><p>Which way of supplying the country's AI demand — foreign frontier "
             "APIs, open-weight models on rented capacity, a domestic build-out, or a mix — costs least, "
             "needs how many GPUs and megawatts, and holds up if frontier access is cut or demand "
             "grows faster than planned?</p>",
             "<h2>The options compared</h2><ul>"
             + "".join(f"<li><b>{html.escape(o)}</b>: {html.escape(OPTION_TEXT.get(o, 'a portfolio of the routes the scenario declares'))}</li>"
                       for o in plan.options) + "</ul>",
             "<h2>Key messages</h2>" + _messages(messages, len(set(zip(results["scenario"], results["region"])))),
             "<h2>Key numbers</h2>"]
    for s, g in dict.fromkeys(zip(results["scenario"], results["region"])):
        parts.append(_key_numbers(plan, s, g, year))
    ranges = " Shaded bands: P5 to P95 of the draws." if plan.uncertainty is not None else ""
    figures = [
        (_line_chart(plan, "Cost|Total", scenario, region, factor, f"{money_unit} per year"),
         f"Cost per year by option ({scenario}, {region}).{ranges}"),
        (_line_chart(plan, "Power|Facility", scenario, region, 1.0, "MW", kind="bar"),
         f"Facility power on national soil by option ({scenario}, {region})."),
        (_line_chart(plan, "Grid|Share of consumption", scenario, region, 1.0, "% of national electricity"),
         f"Share of national electricity by option ({scenario}, {region})."),
    ]
    if robustness is not None:
        figures.append((_regret_chart(robustness),
                        f"Largest regret of each option over every worldview and shock case (present value, "
                        f"unserved demand at {robustness.unserved_value * 1e6:,.0f} USD per million tokens): "
                        f"the robust choice is {robustness.choice}."))
    if tornado is not None and len(tornado):
        swing_unit, swing_factor = ("BUSD", 1e-9) if np.nanmax(np.abs(tornado[["output_at_low", "output_at_high"]]
                                                                         .to_numpy(float))) >= 1e10 else ("MUSD", 1e-6)
        figures.append((_tornado_chart(tornado, swing_factor, swing_unit + "/yr"),
                        f"What moves {tornado_output} most: each assumption from its low to its high."))
    parts.append("<h2>Charts</h2><div class='charts'>")
    for source, caption in figures:
        parts.append(f"<figure><img alt='{html.escape(caption)}' src='{source}'>"
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("</div>")
    parts.append("<h2>The assumptions that decide the answer</h2>")
    if tornado is not None and len(tornado):
        parts.append(_deciding(tornado, tornado_output or "", swing_factor, swing_unit + "/yr"))
    used = plan.assumptions
    counts = used["quality"].value_counts()
    parts.append(f"<p class='small'>The run used {len(used)} sourced assumptions ("
                 + ", ".join(f"{n} {html.escape(str(q))}" for q, n in counts.items())
                 + "); the workbook lists each with its source, date and range.</p>")
    parts.append("<h2>Limitations</h2><ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in LIMITATIONS)
                 + "".join(f"<li>{html.escape(_clip(t))}</li>" for t in plan.calibration_warnings[:3]) + "</ul>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(name)}: capacity briefing</title><style>{STYLE}</style></head><body>"
            + "".join(parts) + "</body></html>")


def _clip(text: str, most: int = 220) -> str:
    return text if len(text) <= most else text[:most].rsplit(" ", 1)[0] + " …"


def _messages(messages, n_series: int) -> str:
    """The key messages as lists, one per (worldview, region) under its name when there are several."""
    out, heard = [], None
    for message in messages:
        if (message.scenario, message.region) != heard:
            if heard is not None:
                out.append("</ul>")
            heard = (message.scenario, message.region)
            if n_series > 1:
                out.append(f"<h3>{html.escape(message.scenario)}, {html.escape(message.region)}</h3>")
            out.append("<ul>")
        css = "warning" if message.warning else ""
        out.append(f"<li class='{css}' data-topic='{message.topic}'>{html.escape(message.text)}</li>")
    return "".join(out) + ("</ul>" if heard is not None else "")


def find_browser() -> str | None:
    """A headless-capable Chromium on this machine, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


BRIEFING_FOLDER = "capacity-briefing-"
"""Prefix of the temporary folder (in TMPDIR) where Chromium prints the PDF; ``-PID-`` follows."""


def _remove_stale_folders() -> None:
    """Remove the print folders of earlier processes that were killed (SIGKILL) mid-print."""
    from .files import _pid_alive
    pattern = re.compile(re.escape(BRIEFING_FOLDER) + r"(\d+)-")
    root = Path(tempfile.gettempdir())
    for entry in root.glob(BRIEFING_FOLDER + "*"):
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not entry.is_symlink() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def write_pdf(page: str, path: Path, browser: str) -> None:
    """Print the HTML `page` to the PDF `path` with a headless Chromium (A4, no header)."""
    _remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{BRIEFING_FOLDER}{os.getpid()}-") as folder:
        source = Path(folder) / "briefing.html"
        source.write_text(page, encoding="utf-8")
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                               f"--user-data-dir={folder}/profile", f"--print-to-pdf={path}", source.as_uri()],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0 or not Path(path).exists() or Path(path).stat().st_size == 0:
            raise RuntimeError(f"{browser} could not print the briefing: {done.stderr.strip()[-300:]}")


def cheapest_output(plan) -> str:
    """The tornado's output: the cost, in the last year, of the option cheapest then in the
    first worldview (``Cost|Total[option, year]``)."""
    cheapest = next((m for m in reversed(key_messages(plan, prefixed=False)) if m.topic == "cheapest"
                     and m.scenario == plan.results.iloc[0]["scenario"]), None)
    option = cheapest.figures["cheapest"] if cheapest is not None else plan.options[0]
    return f"Cost|Total[{option}, {plan.years[-1]}]"
