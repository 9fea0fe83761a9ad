"""Power and grid: watts per GPU, facility power, yearly energy, national shares and CO2.

Elementwise over rows; canonical units: W, J, kg.
"""

from __future__ import annotations

import numpy as np

from ...data.units import SECONDS_PER_YEAR


def draw_fraction(utilisation, idle_power_fraction):
    """Server power as a share of its maximum at a GPU busy fraction [1].

    Linear between idle and full load: ``idle + (1 - idle) * u``; zero GPUs draw nothing.
    Reference: Barroso, Hoelzle & Ranganathan, "The Datacenter as a Computer", 3rd ed., 2018,
    on the linear power model of servers.
    """
    return idle_power_fraction + (1.0 - idle_power_fraction) * np.clip(utilisation, 0.0, 1.0)


def it_power(gpus, board_power_w, server_overhead, draw=1.0):
    """IT power [W] = GPUs x board power [W] x server overhead [1] x draw fraction [1].

    `server_overhead` is server wall power over the sum of its GPUs' board power (CPUs,
    memory, NICs, fans, storage); ``draw=1`` gives the nameplate.
    """
    return gpus * board_power_w * server_overhead * draw


def facility_power(it_power_w, pue):
    """Facility power [W] = IT power x power usage effectiveness (The Green Grid, PUE, 2007)."""
    return it_power_w * pue


def energy_per_year(average_power_w):
    """Energy over a year [J/yr] from the mean power [W]."""
    return average_power_w * SECONDS_PER_YEAR


def share(part, whole):
    """Share of a national total [1]; both in the same unit."""
    return np.divide(part, whole, out=np.full(np.broadcast(part, whole).shape, np.nan),
                     where=whole > 0)


def emissions(energy_j, co2_kg_per_j):
    """CO2 emitted [kg/yr] = energy [J/yr] x grid intensity [kg/J]."""
    return energy_j * co2_kg_per_j
