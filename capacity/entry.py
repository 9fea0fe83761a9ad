"""The `capacity` command's entry point: ``capacity --help`` answered without importing the
command line's libraries (click), everything else handed to `capacity.cli.main`.

`HELP` is click's own rendering of the top-level help at 80 columns; tests/test_cli.py keeps
it equal to what `capacity.cli.main` prints (regenerate with ``python -m capacity.entry
--regenerate``), so the fast answer never drifts from the real one.
"""

from __future__ import annotations

import sys

HELP = """\
Usage: capacity [OPTIONS] COMMAND [ARGS]...

  Turn a country's AI demand into GPUs, megawatts, grid load and cost, for each
  way to supply it: frontier-api, hosted-open-weight, domestic-buildout, and
  portfolios of them (hedged, or a scenario's own), under limits and access
  shocks.

  Examples:
    capacity run                          # default scenario -> netherlands-plan.xlsx
    capacity run my-country.yaml -o plan.xlsx
    capacity run --format json -o -       # results as JSON on stdout
    capacity throughput --model llama-3.3-70b --gpu h100-sxm --max-tpot-ms 50
    capacity robust                       # minimax-regret choice across worldviews x shocks

Options:
  --version   Show the version and exit.
  -h, --help  Show this message and exit.

Commands:
  assumptions  Show the assumption library: values, units, ranges and sources.
  breakeven    How far each deciding assumption must move before another...
  calibrate    Fit the throughput model's efficiency factors to...
  check        Run SCENARIO and evaluate checks on its results: exit 0 when...
  diff         Compare two runs: BEFORE and AFTER are scenarios (files or...
  report       A briefing of two to four pages for a minister: the...
  robust       Every option and portfolio across the scenario's worldviews...
  run          Run every option on SCENARIO (a YAML file, a filled Excel...
  sensitivity  Which assumptions decide OUTPUT: each uncertain assumption...
  template     Write an input to fill in at PATH, pre-filled so that...
  throughput   Estimate output tokens/s per GPU for MODEL on GPU...
"""


def rendered_help() -> str:
    """The top-level help as click renders it at 80 columns (what `HELP` must equal)."""
    from click.testing import CliRunner                     # not a terminal: 80 columns

    from .cli import main as command
    return CliRunner().invoke(command, ["--help"], prog_name="capacity", env={"COLUMNS": "80"}).output


def main() -> None:
    if sys.argv[1:] in (["--help"], ["-h"]):
        sys.stdout.write(HELP)
        return
    if sys.argv[1:] == ["--regenerate"] and __name__ == "__main__":
        from pathlib import Path
        source = Path(__file__)
        head, rest = source.read_text(encoding="utf-8").split('HELP = """\\\n', 1)
        _, tail = rest.split('"""\n', 1)
        source.write_text(head + 'HELP = """\\\n' + rendered_help() + '"""\n' + tail, encoding="utf-8")
        return
    from .cli import main as command
    command()


if __name__ == "__main__":
    main()
