"""The command line: parse, call the library, print. No model logic lives here.

Exit codes: 0 success, 1 a check failed, 2 bad input (one located message, no traceback).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .data.schema import ENGINES

FORMATS = ("xlsx", "json", "csv", "iamc")   # as capacity.io.export.writers.FORMATS (tested)
MAX_DRAWS = 100_000          # as capacity.analysis.uncertainty.MAX_DRAWS (tested)
MAX_SOBOL_SAMPLES = 65_536   # Saltelli base samples; each costs 2 x inputs + 2 evaluations

SET_HELP = ("Override one scenario value, PATH=VALUE with units allowed; repeatable. Paths are the "
            "scenario's keys joined by dots (docs/scenario.md lists them all), e.g. "
            "demand.scale=2, options.domestic-buildout.pue=1.25, "
            "regions.NLD.electricity_price='0.2 USD/kWh', use_cases.drafting.frontier_share=0.5.")


def _set_option(function):
    return click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=SET_HELP)(function)


class _Progress:
    """A status line on stderr for work that takes over a second; silent when stderr is not a
    terminal (pipes, CI logs)."""

    def __init__(self, message: str):
        self.message = message
        self.timer = None

    def __enter__(self):
        if sys.stderr.isatty():
            import threading
            self.timer = threading.Timer(1.0, lambda: click.echo(f"capacity: {self.message}…", err=True))
            self.timer.daemon = True
            self.timer.start()
        return self

    def __exit__(self, *exc):
        if self.timer is not None:
            self.timer.cancel()


def _load_and_run(scenario, files, overrides, output=None):
    """Load SCENARIO, check that `output` may be written (not one of the inputs just read, not a
    device), then run it."""
    from .data.scenario import load_scenario
    from .model.plan import run as run_plan
    loaded = load_scenario(scenario, overrides=list(overrides), assumptions=files)
    for line in loaded.warnings:
        click.echo(f"capacity: warning: {line}", err=True)
    if output is not None and output != "-":
        from .io.export.files import checked_destination
        checked_destination(output)
    with _Progress(f"running {loaded.name} ({len(loaded.cases)} scenario"
                   f"{'s' if len(loaded.cases) != 1 else ''})"):
        plan = run_plan(loaded)
    from .model.plausibility import describe
    for line in plan.calibration_warnings + describe(plan.implausible):
        click.echo(f"capacity: warning: {line}", err=True)
    return loaded, plan


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Group(click.Group):
    def invoke(self, ctx):
        from .data.errors import CapacityError
        from .data.reading import forget_inputs, stop_tracking
        from .io.export.files import install_signal_handlers
        forget_inputs()                 # an output may not replace a file this command reads
        install_signal_handlers()       # SIGTERM/SIGHUP remove temporary files, then exit
        try:
            try:
                return super().invoke(ctx)
            finally:
                stop_tracking()
        except CapacityError as exc:
            click.echo(f"capacity: error: {exc}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("capacity: interrupted; nothing was written", err=True)
            ctx.exit(130)
        except BrokenPipeError:          # `capacity run --format csv | head`: the reader left
            _silence_stdout()
            ctx.exit(0)
        except OSError as exc:           # stdout on a full disk, a file vanishing mid-read...
            _silence_stdout()
            where = exc.filename or "stdout"
            click.echo(f"capacity: error: {where}: cannot write or read: {exc.strerror or exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capacity")
def main() -> None:
    """Turn a country's AI demand into GPUs, megawatts, grid load and cost, for each way to
    supply it: frontier-api, hosted-open-weight, domestic-buildout, and portfolios of them
    (hedged, or a scenario's own), under limits and access shocks.

    \b
    Examples:
      capacity run                          # default scenario -> netherlands-plan.xlsx
      capacity run my-country.yaml -o plan.xlsx
      capacity run --format json -o -       # results as JSON on stdout
      capacity throughput --model llama-3.3-70b --gpu h100-sxm --max-tpot-ms 50
      capacity robust                       # minimax-regret choice across worldviews x shocks
    """


@main.command()
@click.argument("scenario", required=False)
@click.option("-o", "--output", "output", metavar="PATH",
              help="Where to write results; '-' for stdout. Default: <scenario>-plan.xlsx, or "
                   "stdout for json/csv.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format (default: from the file suffix, else xlsx).")
@click.option("--assumptions", "files", multiple=True, metavar="CSV",
              help="An assumption file whose rows add to or override the library (its name says "
                   "the table, e.g. gpus.csv); repeatable.")
@click.option("--robust", "with_robustness", is_flag=True,
              help="Add a Robustness sheet to the workbook (capacity robust's matrix).")
@click.option("--draws", type=click.IntRange(min=1, max=MAX_DRAWS), metavar="N",
              help="Also a Monte Carlo of N draws over every sourced low/high range (PERT): "
                   "quantiles P5-P95 of every variable and the probability each option is the "
                   "cheapest.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the draws: the same seed gives the same results.")
@click.option("--csv-sep", "csv_sep", type=click.Choice([",", ";", "tab"]), default=",", show_default=True,
              help="CSV field separator; ';' with --decimal ',' is what a Dutch or German Excel opens.")
@click.option("--decimal", type=click.Choice([".", ","]), default=".", show_default=True,
              help="Decimal mark of the numbers in CSV output.")
@_set_option
def run(scenario: str | None, output: str | None, fmt: str | None, files: tuple[str, ...],
        with_robustness: bool, draws: int | None, seed: int, csv_sep: str, decimal: str,
        overrides: tuple[str, ...]) -> None:
    """Run every option on SCENARIO (a YAML file, a filled Excel template, or a preset name;
    default: the embedded default scenario) and write the results.

    \b
    Examples:
      capacity run
      capacity run netherlands -o nl.xlsx
      capacity run my-country.yaml --format csv -o results.csv
      capacity run --format json -o - | jq '.results | length'
      capacity run germany --assumptions quotes/gpus.csv   # a national GPU price quote
      capacity run --set demand.scale=2 --set options.domestic-buildout.pue=1.25
      capacity run --format iamc -o results.xlsx      # IAMC wide table (pyam, IIASA explorers)
      capacity run --robust -o plan.xlsx              # with the Robustness sheet
      capacity run --draws 1000 --seed 1 --format json -o mc.json   # with quantiles
      capacity run -o nl.csv --csv-sep ';' --decimal ,   # for a decimal-comma Excel
    """
    from .io.export.writers import format_for

    fmt = format_for(output, fmt)
    if fmt == "xlsx" and output == "-":
        raise click.UsageError("an xlsx workbook cannot go to stdout; give -o PATH.xlsx")
    if with_robustness and fmt != "xlsx":
        raise click.UsageError("--robust adds a sheet to the workbook; for the matrix as "
                               f"{fmt}, use capacity robust --format {fmt if fmt != 'iamc' else 'csv'}")
    if (csv_sep, decimal) != (",", ".") and fmt != "csv":
        raise click.UsageError(f"--csv-sep and --decimal shape CSV output; this writes {fmt}")
    from .io.export.tabular import csv_convention
    csv_convention(csv_sep, decimal)                  # a bad pair is refused before the run
    loaded, plan = _load_and_run(scenario, files, overrides, output)
    if draws:
        from .analysis.uncertainty import monte_carlo
        with _Progress(f"drawing {draws} times over the sourced ranges"):
            plan.uncertainty = monte_carlo(loaded, draws, seed)
    if output is None:
        from .io.export.files import safe_file_name
        output = "-" if fmt in ("json", "csv", "iamc") else safe_file_name(f"{loaded.name}-plan", ".xlsx")
    writers = {"xlsx": plan.to_excel, "json": plan.to_json, "iamc": plan.to_iamc,
               "csv": lambda path=None: plan.to_csv(path, csv_sep, decimal)}
    if with_robustness:
        from .analysis.robust import robust as find
        result = find(loaded)
        writers["xlsx"] = lambda path: plan.to_excel(path, robustness=result)
    if output == "-":
        sys.stdout.write(writers[fmt]())
        return
    writers[fmt](output)
    if fmt == "xlsx":
        click.echo(_summary(plan))
    click.echo(f"wrote {output}", err=True)


def _summary(plan) -> str:
    """A few headline figures per option for the last year, for the terminal."""
    table = plan.headline()
    last = plan.years[-1]
    lines = [f"{plan.scenario.name}: headline figures for {last} "
             "(GPUs and MW on national soil)",
             f"{'scenario':<12} {'region':<6} {'option':<19} {'GPUs':>10} {'MW':>9} {'% elec':>7} "
             f"{'MUSD/yr':>10} {'USD/Mtok':>9}"]
    for (scenario, region, option), values in table.iterrows():
        lines.append(f"{scenario:<12} {region:<6} {option:<19} {values['GPUs']:>10,.0f} "
                     f"{values['MW']:>9,.1f} {values['% of electricity']:>7.2f} "
                     f"{values['MUSD/yr']:>10,.0f} {values['USD/Mtok']:>9.3f}")
    return "\n".join(lines)


@main.command()
@click.argument("scenario", required=False)
@click.option("--require", "required", multiple=True, metavar="EXPR",
              help="A check, e.g. 'Grid|Share of consumption[domestic-buildout, 2030] <= 2 %' or "
                   "'cheapest(2030) == hosted-open-weight'; repeatable. Adds to the scenario's checks:.")
@click.option("--junit", "junit_path", metavar="PATH", help="Also write a JUnit XML report.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--assumptions", "files", multiple=True, metavar="CSV", help="Extra assumption file.")
@click.option("--draws", type=click.IntRange(min=1, max=MAX_DRAWS), metavar="N",
              help="Draw N times over the sourced ranges, for checks on a quantile ([..., p95]).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws.")
@_set_option
def check(scenario, required, junit_path, fmt, files, draws, seed, overrides) -> None:
    """Run SCENARIO and evaluate checks on its results: exit 0 when all hold, 1 when any
    fails, 2 for bad input.

    \b
    Grammar: VARIABLE[OPTION, YEAR] OP NUMBER [UNIT], optionally [OPTION, YEAR, REGION] or
    [OPTION, YEAR, REGION, SCENARIO], and a quantile of the draws (p5, p25, p50, p75, p95; with
    --draws) among the selectors; OP is <, <=, >, >=, ==, !=; and cheapest(YEAR) == OPTION.
    \b
    Examples:
      capacity check my-country.yaml --junit checks.xml
      capacity check --require 'Grid|Share of consumption[domestic-buildout, 2030] <= 2 %'
      capacity check --require 'Cost|Per million tokens[hosted-open-weight, 2028] < 1.5 USD/Mtok'
      capacity check --require 'cheapest(2030) == frontier-api' --format json
      capacity check --draws 500 --require 'Cost|Total[hosted-open-weight, 2030, p95] < 5e9 USD/yr'
    """
    from .analysis.checks import evaluate_checks, parse_check, to_json, to_junit, to_text
    from .io.export.files import atomic_write

    required_checks = [parse_check(text, "--require") for text in required]  # refused before the run
    loaded, plan = _load_and_run(scenario, files, overrides, junit_path)
    if draws:
        from .analysis.uncertainty import monte_carlo
        with _Progress(f"drawing {draws} times over the sourced ranges"):
            plan.uncertainty = monte_carlo(loaded, draws, seed)
    checks = [parse_check(text, where) for text, where in loaded.checks] + required_checks
    if not checks:
        raise click.UsageError("no checks: give --require EXPR or a scenario with checks:")
    results = evaluate_checks(plan.results, checks, plan.quantiles)
    if junit_path:
        atomic_write(junit_path, lambda path: path.write_text(to_junit(results), encoding="utf-8"))
    click.echo(to_json(results) if fmt == "json" else to_text(results), nl=fmt != "json")
    sys.exit(0 if all(r.ok for r in results) else 1)


@main.command()
@click.argument("before")
@click.argument("after")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text",
              show_default=True, help="markdown: a table for a pull-request comment or CI summary.")
@click.option("--rtol", type=click.FloatRange(min=0), default=1e-6, show_default=True,
              help="Relative tolerance below which a value counts as unchanged.")
@click.option("--assumptions", "files", multiple=True, metavar="CSV", help="Extra assumption file.")
@_set_option
def diff(before, after, fmt, rtol, files, overrides) -> None:
    """Compare two runs: BEFORE and AFTER are scenarios (files or presets) or saved JSON
    results; --set applies to AFTER. Lists the values that changed, largest relative change
    first. Exit 0 unless the input is bad (2).

    \b
    Examples:
      capacity diff netherlands netherlands --set demand.scale=2
      capacity run --format json -o old.json; capacity diff old.json netherlands --format markdown
      capacity diff germany france
    """
    from .analysis.diff import diff_results, read_results_json, to_markdown, to_text

    def results_of(source, settings):
        if source.lower().endswith(".json"):
            if settings:
                raise click.UsageError("--set applies to a scenario, not to saved JSON results")
            return read_results_json(source)
        return _load_and_run(source, files, settings)[1].results

    changes = diff_results(results_of(before, ()), results_of(after, overrides), rtol=rtol)
    label = after + "".join(f" --set {o}" for o in overrides)
    click.echo(to_markdown(changes, before, label) if fmt == "markdown" else to_text(changes))


@main.command()
@click.argument("scenario", required=False)
@click.option("-o", "--output", "output", metavar="PATH",
              help="Also write the matrix: .xlsx (a Robustness sheet), .csv or .json; '-' with "
                   "--format for stdout.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json", "xlsx"]),
              help="Output format (default: from the file suffix, else text).")
@click.option("--unserved-value", "unserved_value", metavar="USD/Mtok",
              help="Value of demand no route serves, e.g. '50 USD/Mtok' (default: the "
                   "scenario's robustness.unserved_value, else the library's policy row).")
@click.option("--assumptions", "files", multiple=True, metavar="CSV", help="Extra assumption file.")
@_set_option
def robust(scenario, output, fmt, unserved_value, files, overrides) -> None:
    """Every option and portfolio across the scenario's worldviews x shock cases: cost,
    unserved demand, regret per case, the largest regret and the expected full cost; names
    the minimax-regret choice. Shock cases and weights: the scenario's `robustness:` block
    (default: no shock, frontier cut-off 2028, API price x3 2027, foreign compute cut-off 2028).

    \b
    Examples:
      capacity robust
      capacity robust india --unserved-value "10 USD/Mtok"
      capacity robust -o robust.xlsx
      capacity robust --format json -o - | jq .choice
    """
    from .analysis.robust import robust as find, to_text
    from .data.scenario import load_scenario
    from .data.units import to_magnitude
    from .io.export.writers import write_robustness

    if fmt is None:
        suffix = Path(output).suffix.lower() if output and output != "-" else ""
        fmt = {".xlsx": "xlsx", ".csv": "csv", ".json": "json"}.get(suffix, "text")
    if fmt == "xlsx" and (output is None or output == "-"):
        raise click.UsageError("an xlsx workbook cannot go to stdout; give -o PATH.xlsx")
    value = None
    if unserved_value is not None:
        from .data.errors import InputError
        try:
            value = to_magnitude(unserved_value, "USD/token", default_unit="USD/Mtok")
        except ValueError as exc:
            raise InputError("--unserved-value", None, repr(unserved_value),
                             "a value in USD/Mtok, e.g. '50 USD/Mtok'", str(exc)) from None
    loaded = load_scenario(scenario, overrides=list(overrides), assumptions=files)
    with _Progress(f"running {loaded.name} across its worldviews and shock cases"):
        result = find(loaded, value)
    if output == "-":
        sys.stdout.write(result.to_csv() if fmt == "csv" else result.to_json() + "\n"
                         if fmt == "json" else to_text(result) + "\n")
        return
    click.echo(to_text(result))
    if output is not None:
        write_robustness(result, output, "csv" if fmt == "text" else fmt)
        click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("scenario", required=False)
@click.option("-o", "--output", "output", metavar="PATH",
              help="brief.html (self-contained) or brief.pdf (printed by a headless Chromium). "
                   "Default: <scenario>-briefing.html.")
@click.option("--draws", type=click.IntRange(min=1, max=MAX_DRAWS), metavar="N",
              help="Also N Monte Carlo draws: P5-P95 ranges and the probability each option is cheapest.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the draws.")
@click.option("--assumptions", "files", multiple=True, metavar="CSV", help="Extra assumption file.")
@_set_option
def report(scenario, output, draws, seed, files, overrides) -> None:
    """A briefing of two to four pages for a minister: the question, the options compared, the
    key messages and numbers (with ranges when drawn), charts of cost, MW and share of national
    electricity, the robustness of each option and what moves the answer most, the deciding
    assumptions with their sources, and the limitations.

    \b
    Examples:
      capacity report -o brief.html
      capacity report germany --draws 500 -o brief.pdf
    """
    from .analysis.robust import robust as find
    from .analysis.sensitivity import tornado
    from .data.errors import OutputError
    from .io.export.briefing import briefing_html, cheapest_output, find_browser, write_pdf
    from .io.export.files import atomic_write

    suffix = Path(output).suffix.lower() if output else ".html"
    if output == "-" or suffix not in (".html", ".htm", ".pdf"):
        raise click.UsageError(f"-o {output}: the briefing is written to a .html or .pdf file")
    browser = find_browser() if suffix == ".pdf" else None
    if suffix == ".pdf" and browser is None:
        raise OutputError(f"{output}: cannot print a PDF: no Chromium on this machine (install the "
                          "chromium package, or write -o brief.html and print it from a browser)")
    loaded, plan = _load_and_run(scenario, files, overrides, output)
    if draws:
        from .analysis.uncertainty import monte_carlo
        with _Progress(f"drawing {draws} times over the sourced ranges"):
            plan.uncertainty = monte_carlo(loaded, draws, seed)
    with _Progress("testing robustness and sensitivity"):
        robustness = find(loaded)
        selector = cheapest_output(plan)
        swings = tornado(loaded, selector)
    page = briefing_html(plan, robustness, swings, selector)
    from .io.export.files import safe_file_name
    output = output or safe_file_name(f"{loaded.name}-briefing", ".html")
    if suffix == ".pdf":
        atomic_write(output, lambda temporary: write_pdf(page, temporary, browser))
    else:
        atomic_write(output, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("scenario", required=False)
@click.option("--output", "output", required=True, metavar="SELECTOR",
              help="What to explain: VARIABLE[OPTION, YEAR(, REGION(, SCENARIO))], e.g. "
                   "'Cost|Total[domestic-buildout, 2030]'.")
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True,
              help="How many assumptions to list.")
@click.option("--sobol", "with_sobol", is_flag=True,
              help="Also variance-based Sobol indices (SALib) of the listed assumptions.")
@click.option("--samples", type=click.IntRange(min=8, max=MAX_SOBOL_SAMPLES), default=256, show_default=True,
              help="Saltelli base samples for --sobol (points = samples x (2 x inputs + 2)).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@click.option("-o", "--write", "path", metavar="PATH.xlsx",
              help="Also write a workbook with the tornado as a native bar chart (and the Sobol indices).")
@click.option("--assumptions", "files", multiple=True, metavar="CSV", help="Extra assumption file.")
@_set_option
def sensitivity(scenario, output, top, with_sobol, samples, fmt, path, files, overrides) -> None:
    """Which assumptions decide OUTPUT: each uncertain assumption moved alone to its low and its
    high (a tornado, largest swing first, with its source), and with --sobol the first-order
    and total Sobol indices of the top ones.

    \b
    Examples:
      capacity sensitivity --output "Cost|Total[domestic-buildout, 2030]"
      capacity sensitivity india --output "Power|Facility[hosted-open-weight, 2035]" --top 10
      capacity sensitivity --output "Cost|Total[frontier-api, 2030]" --sobol --top 6
    """
    from .analysis.sensitivity import sobol, tornado
    from .data.scenario import load_scenario

    loaded = load_scenario(scenario, overrides=list(overrides), assumptions=files)
    with _Progress("moving every uncertain assumption to its low and high"):
        table = tornado(loaded, output, top)
        indices = sobol(loaded, output, list(table["input"]), samples) if with_sobol else None
    if path is not None:
        from .io.export.writers import write_sensitivity
        if not str(path).lower().endswith(".xlsx"):
            raise click.UsageError("-o writes a workbook: give a path ending in .xlsx")
        write_sensitivity(output, table, indices, path)
        click.echo(f"wrote {path}", err=True)
    if fmt == "json":
        import json
        document = {"output": output, "tornado": json.loads(table.to_json(orient="records"))}
        if indices is not None:
            document["sobol"] = json.loads(indices.to_json(orient="records"))
        click.echo(json.dumps(document, indent=1))
        return
    if fmt == "csv":
        click.echo(table.to_csv(index=False, lineterminator="\n"), nl=False)
        return
    unit = table["unit"].iloc[0] if len(table) else ""
    click.echo(f"{output}: {table['base'].iloc[0]:,.6g} {unit} at the stated values; each assumption "
               f"alone at its low and high:")
    for row in table.itertuples(index=False):
        click.echo(f"  {row.input:<56} {row.output_at_low:>14,.6g} .. {row.output_at_high:<14,.6g} "
                   f"swing {row.swing:,.4g} ({row.quality}; {row.source[:70]})")
    if indices is not None:
        click.echo("Sobol indices (first order S1, total ST, +/- 95 % confidence):")
        for row in indices.itertuples(index=False):
            click.echo(f"  {row.input:<56} S1 {row.S1:6.3f} +/- {row.S1_conf:.3f}   ST {row.ST:6.3f} +/- {row.ST_conf:.3f}")


@main.command()
@click.argument("scenario", required=False)
@click.option("--variant", metavar="NAME", help="The scenario variant (default: the first, e.g. realist).")
@click.option("--year", type=int, help="The year compared (default: the last of the horizon).")
@click.option("--lever", "levers", multiple=True, metavar="NAME",
              help="Only this lever; repeatable (default: all).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--assumptions", "files", multiple=True, metavar="CSV", help="Extra assumption file.")
@_set_option
def breakeven(scenario, variant, year, levers, fmt, files, overrides) -> None:
    """How far each deciding assumption must move before another option becomes the cheapest
    (lowest Cost|Total in the year, with demand it leaves unserved under the scenario's shocks
    and limits at robustness.unserved_value): the break-even value nearest the default, below
    or above.

    \b
    Levers: frontier-price-trend, open-price-trend, api-floor-markup, host-price-trend, rent,
    rent-floor-markup, target-utilisation, server-capex, electricity-price.
    \b
    Examples:
      capacity breakeven
      capacity breakeven --year 2030 --lever rent --lever frontier-price-trend
      capacity breakeven germany --variant maximalist --format json
    """
    from .analysis.breakeven import breakeven as find, to_text
    from .data.scenario import load_scenario

    loaded = load_scenario(scenario, overrides=list(overrides), assumptions=files)
    variant = variant or next(iter(loaded.cases))
    table = find(loaded, variant, year, list(levers) or None)
    if fmt == "json":
        click.echo(table.to_json(orient="records", indent=1))
    else:
        click.echo(to_text(table, variant, year or loaded.cases[variant].horizon.last_year))


@main.command()
@click.argument("path")
@click.option("--scenario", "scenario", metavar="SCENARIO",
              help="Pre-fill with this scenario (a YAML file or preset) instead of the default.")
def template(path, scenario) -> None:
    """Write an input to fill in at PATH, pre-filled so that running it unchanged gives the
    scenario's results: the Excel input template (PATH.xlsx), or the scenario's YAML file
    itself (PATH.yaml, a copy of a preset with its comments); run it with `capacity run PATH`.

    \b
    Examples:
      capacity template my-country.xlsx
      capacity template germany.xlsx --scenario germany
      capacity template ministry-plan.yaml --scenario ministry-plan
      capacity run my-country.xlsx -o plan.xlsx
    """
    from .data.scenario import load_scenario
    from .io.template_writer import write_scenario_file, write_template
    if Path(path).suffix.lower() in (".yaml", ".yml"):
        write_scenario_file(path, scenario)
    else:
        write_template(path, load_scenario(scenario))
    click.echo(f"wrote {path}", err=True)


@main.group()
def assumptions() -> None:
    """Show the assumption library: values, units, ranges and sources.

    \b
    Examples:
      capacity assumptions list
      capacity assumptions list --table gpus
      capacity assumptions show gpus:h100-sxm:board_power
      capacity assumptions show h100-sxm
      capacity assumptions list --file my-prices/gpus.csv   # check and show your own rows
    """


def _catalog(files):
    from .data.catalog import default_catalog
    return default_catalog().with_files(tuple(Path(f) for f in files)) if files else default_catalog()


def _value_text(row) -> str:
    unit = f" {row.unit_given}" if row.unit_given else ""
    if row.low == row.low or row.high == row.high:  # a range is given (NaN != NaN)
        low = "" if row.low != row.low else f"{row.given(row.low):g}"
        high = "" if row.high != row.high else f"{row.given(row.high):g}"
        return f"{row.value_given}{unit} [{low} .. {high}]"
    return f"{row.value_given}{unit}"


@assumptions.command("list")
@click.option("--table", type=click.Choice(["gpus", "models", "api_products", "efficiency",
                                            "defaults", "countries", "use_cases"]),
              help="Only this table.")
@click.option("--quality", type=click.Choice(["primary", "secondary", "estimate"]),
              help="Only rows of this source quality.")
@click.option("--file", "files", multiple=True, metavar="CSV",
              help="Also load (and check) this assumption file; repeatable.")
def assumptions_list(table, quality, files) -> None:
    """List assumption rows: identifier, value with unit and range, source and date.

    \b
    Examples:
      capacity assumptions list --table countries
      capacity assumptions list --quality estimate
      capacity assumptions list --file my-quotes/gpus.csv
    """
    catalog = _catalog(files)
    for row in catalog.all_rows(table):
        if quality and row.quality != quality:
            continue
        click.echo(f"{row.key:<58} {_value_text(row):<40} {row.quality or 'unrated':<9} "
                   f"{row.source[:70]} ({row.source_date})")


@assumptions.command("sources")
@click.option("--weak", is_flag=True, help="List every row citing a weak or denied source.")
def assumptions_sources(weak) -> None:
    """Count the library's rows by source quality, and check every cited URL against the source
    policy (capacity/data/source-policy.csv).

    \b
    Examples:
      capacity assumptions sources
      capacity assumptions sources --weak
    """
    from .data.sources import audit, quality_counts
    click.echo(quality_counts().to_string())
    if weak:
        frame = audit()
        flagged = frame[frame["verdict"] != "ok"]
        for record in flagged.itertuples():
            kept = "explained" if record.explained else "UNEXPLAINED"
            click.echo(f"{record.file}:{record.line} {record.id}:{record.what} {record.verdict} "
                       f"({kept}) {record.url}\n    {record.reason}")


@assumptions.command("show")
@click.argument("identifier")
@click.option("--file", "files", multiple=True, metavar="CSV", help="Also load this file.")
def assumptions_show(identifier, files) -> None:
    """Show one row (TABLE:ID:PARAMETER) or every row of an item (ID) in full.

    \b
    Examples:
      capacity assumptions show defaults:facility:pue_hyperscale
      capacity assumptions show NLD
    """
    from .data.errors import InputError
    catalog = _catalog(files)
    rows = [row for row in catalog.all_rows() if identifier in (row.key, row.id)]
    if not rows:
        import difflib
        keys = [row.key for row in catalog.all_rows()] + sorted({row.id for row in catalog.all_rows()})
        close = difflib.get_close_matches(identifier, keys, n=1)
        raise InputError(None, "identifier", repr(identifier), "TABLE:ID:PARAMETER or an item id",
                         f"did you mean {close[0]!r}?" if close else None)
    for row in rows:
        click.echo(f"{row.key}\n  value:  {_value_text(row)}\n  quality: {row.quality or 'unrated'}\n"
                   f"  source: {row.source}\n"
                   f"  url:    {row.url}\n  date:   {row.source_date}\n"
                   f"  file:   {row.file}:{row.line}" + (f"\n  notes:  {row.notes}" if row.notes else ""))


@main.command()
@click.option("--model", required=True, help="Open-weight model id (assumptions/models.csv).")
@click.option("--gpu", required=True, help="GPU id (assumptions/gpus.csv).")
@click.option("--precision", type=click.Choice(["bf16", "fp8", "fp4"]),
              help="Weight precision (default: fp8 where the GPU has it, else bf16).")
@click.option("--input-tokens", type=click.FloatRange(min=0), default=1000.0, show_default=True,
              help="Mean prompt tokens per request.")
@click.option("--output-tokens", type=click.FloatRange(min=0, min_open=True), default=1000.0,
              show_default=True, help="Mean generated tokens per request (reasoning included).")
@click.option("--max-tpot-ms", type=click.FloatRange(min=0, min_open=True),
              help="Time-per-output-token target [ms]; none by default.")
@click.option("--gpus-per-replica", type=click.IntRange(min=1),
              help="Tensor-parallel size; chosen by the model when omitted.")
@click.option("--engine", type=click.Choice(list(ENGINES)),
              default="tensorrt-llm", show_default=True,
              help="Inference engine whose calibrated efficiency factors to use.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def throughput(model, gpu, precision, input_tokens, output_tokens, max_tpot_ms, gpus_per_replica,
               engine, fmt) -> None:
    """Estimate output tokens/s per GPU for MODEL on GPU (calibrated roofline).

    \b
    Examples:
      capacity throughput --model llama-3.3-70b --gpu h100-sxm
      capacity throughput --model deepseek-v3 --gpu b200 --precision fp4 --max-tpot-ms 50
      capacity throughput --model gpt-oss-120b --gpu h200-sxm --format json
      capacity throughput --model llama-2-70b --gpu mi300x --engine vllm
    """
    import json

    from .model.estimate import throughput as estimate

    result = estimate(model, gpu, precision, input_tokens, output_tokens, max_tpot_ms,
                      gpus_per_replica, engine=engine)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=1))
        return
    click.echo(f"{result.model} on {result.gpu} at {result.precision}, {result.input_tokens:g} in / "
               f"{result.output_tokens:g} out tokens"
               + (f", TPOT <= {result.max_tpot_ms:g} ms" if result.max_tpot_ms else "") + ":")
    click.echo(f"  {result.output_tokens_per_s_per_gpu:,.0f} output tokens/s per GPU; replica of "
               f"{result.gpus_per_replica} GPU, batch {result.batch_size}, "
               f"{result.time_per_output_token_ms:.1f} ms per output token; bound: {result.bound}")


@main.command()
@click.option("--write", is_flag=True, help="Write efficiency.csv and the errors in calibration.csv.")
def calibrate(write: bool) -> None:
    """Fit the throughput model's efficiency factors to assumptions/calibration.csv and show
    the model's error on every published measurement.

    \b
    Examples:
      capacity calibrate            # show the fit
      capacity calibrate --write    # store it in assumptions/
    """
    from .model import calibrate as calibration

    result = calibration.fit()
    factors = result.factors.copy()
    factors["layer_overhead"] = factors["layer_overhead"] * 1e6
    click.echo(factors.rename(columns={"layer_overhead": "layer_overhead_us"}).to_string(
        float_format=lambda v: f"{v:.2f}"))
    shown = result.measurements[["id", "engine_id", "measured_output_tokens_per_s_per_gpu",
                                 "modelled_output_tokens_per_s_per_gpu", "error_pct", "bound"]]
    click.echo(shown.to_string(index=False))
    click.echo(f"RMS log error {result.rms_log_error:.3f} ("
               + ", ".join(f"{e} {v:.3f}" for e, v in result.rms_by_engine().items()) + ")")
    if write:
        calibration.write(result)
        click.echo("wrote assumptions/efficiency.csv and assumptions/calibration.csv", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
