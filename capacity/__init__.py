"""capacity: a country's AI demand -> GPUs, megawatts, grid load and money, for each way to
supply it (frontier APIs, hosted open-weight models, domestic datacenters).

>>> import capacity
>>> plan = capacity.run(capacity.load_scenario())        # the default scenario
>>> plan.results.head()                                  # scenario, region, option, variable, ...
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["load_scenario", "run", "throughput", "Plan", "Scenario", "InputError", "__version__"]


def __getattr__(name: str):
    # imports deferred so that `capacity --help` starts fast
    if name in ("load_scenario", "Scenario"):
        from .data import scenario
        return getattr(scenario, name)
    if name in ("run", "Plan"):
        from .model import plan
        return getattr(plan, name)
    if name == "throughput":
        from .model.estimate import throughput
        return throughput
    if name == "InputError":
        from .data.errors import InputError
        return InputError
    raise AttributeError(f"module 'capacity' has no attribute {name!r}")
