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


def pytest_report_header(config):
    """Which `capacity` the tests run against: the source tree, or an installed wheel."""
    return f"capacity {capacity.__version__} from {capacity.__file__}"
