"""capacity: a country's AI demand -> GPUs, megawatts, grid load and money, for each way to
supply it (frontier APIs, hosted open-weight models, domestic datacenters).

>>> import capacity
>>> plan = capacity.run(capacity.load_scenario())        # the default scenario
>>> plan.results.head()                                  # scenario, region, option, variable, ...
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["load_scenario", "run", "sweep", "throughput", "Plan", "Scenario", "InputError", "__version__"]


def run(source_or_scenario=None, overrides=None, assumptions=None, *, catalog=None,
        draws: int | None = None, seed: int = 0, scheduler=None):
    """Evaluate every option of every case of a scenario (`capacity.model.plan.run`): a `Plan`.

    `source_or_scenario` is a loaded `Scenario`, or anything `load_scenario` takes (a preset
    name, a YAML file, a filled Excel template; None for the default scenario), loaded with
    `overrides` and `assumptions` as `load_scenario` reads them. With `draws`, also a Monte Carlo over every sourced low/high range
    (`capacity.analysis.uncertainty.monte_carlo`; the same `seed` gives the same results):
    ``plan.quantiles``, ``plan.uncertainty``; with `scheduler` (a `dask.distributed.Client` or
    its address) the draws run on that cluster, with the same results.

    >>> plan = capacity.run("germany", overrides={"demand.scale": 2})
    >>> plan = capacity.run(draws=1000, seed=1); plan.quantiles.head()
    """
    from .model.plan import run as run_plan
    plan = run_plan(source_or_scenario, overrides, assumptions, catalog=catalog)
    if draws:
        from .analysis.uncertainty import monte_carlo
        plan.uncertainty = monte_carlo(plan.scenario, int(draws), int(seed), scheduler=scheduler)
    return plan


def sweep(points, source_or_scenario=None, overrides=None, assumptions=None, *, scheduler=None):
    """Many variants of one scenario, validated once: `points` is a list of mappings of
    scenario paths to values (``[{"options.domestic-buildout.pue": 1.2}, ...]``); the results
    are `Plan.results` with a leading ``point`` column (`capacity.analysis.sweep`). With
    `scheduler` (a `dask.distributed.Client` or its address) the points run on that cluster.

    >>> capacity.sweep([{"demand.scale": s} for s in (0.5, 1, 2)], "india")
    """
    from .analysis.sweep import sweep as run_sweep
    from .data.scenario import Scenario, load_scenario
    scenario = source_or_scenario if isinstance(source_or_scenario, Scenario) else load_scenario(
        source_or_scenario, overrides, assumptions)
    return run_sweep(scenario, list(points), scheduler=scheduler)


def __getattr__(name: str):
    # imports deferred so that `capacity --help` starts fast
    if name in ("load_scenario", "Scenario"):
        from .data import scenario
        return getattr(scenario, name)
    if name == "Plan":
        from .model import plan
        return plan.Plan
    if name == "throughput":
        from .model.estimate import throughput
        return throughput
    if name == "InputError":
        from .data.errors import InputError
        return InputError
    raise AttributeError(f"module 'capacity' has no attribute {name!r}")
