"""Shared fixtures: the default scenario's plan is computed once per test session."""

from __future__ import annotations

import pytest

import capacity


@pytest.fixture(scope="session")
def default_scenario():
    return capacity.load_scenario()


@pytest.fixture(scope="session")
def default_plan(default_scenario):
    return capacity.run(default_scenario)


@pytest.fixture(scope="session")
def workbook(default_plan, tmp_path_factory):
    """The default plan's workbook, written once per session."""
    from capacity.io.export.workbook import write_workbook
    path = tmp_path_factory.mktemp("book") / "plan.xlsx"
    write_workbook(default_plan, path)
    return path


def pytest_report_header(config):
    """Which `capacity` the tests run against: the source tree, or an installed wheel."""
    return f"capacity {capacity.__version__} from {capacity.__file__}"


def write_scenario(tmp_path, use_cases=("drafting",), first=2026, last=2035, name="one"):
    """A one-country, one-worldview (realist) scenario with the default scenario's options and
    the given use cases: small, hand-checkable cases for the tests."""
    from pathlib import Path
    source = Path(capacity.load_scenario().source).read_text()
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nworldview: realist\nhorizon: {{first_year: {first}, last_year: {last}}}\n"
                    "regions: {NLD: {}}\nuse_cases: {" + ", ".join(f"{u}: {{}}" for u in use_cases) + "}\n"
                    + source.split("options:")[1].split("variants:")[0].join(["options:", ""]))
    return path


@pytest.fixture
def scenario_file():
    """`write_scenario`, for tests that build small scenarios."""
    return write_scenario


def pytest_terminal_summary(terminalreporter):
    """Print the hostile-input cases per family (issue 14) that ran in this session."""
    from hostile_support import family_counts, table
    ran = [report.nodeid for key in ("passed", "failed") for report in terminalreporter.stats.get(key, [])
           if getattr(report, "when", "call") == "call"]
    counts = family_counts(ran)
    if counts:
        terminalreporter.write_sep("-", "hostile-input cases by family (passed or failed)")
        terminalreporter.write_line(table(counts))
