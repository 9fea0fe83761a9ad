"""Worked policy question (README): if frontier API access ends in 2028, what owned reserve keeps
the Netherlands' unserved AI demand under 5 %, and what does that insurance cost a year?

Run: python docs/examples/frontier_cutoff_reserve.py
"""

import capacity

# a site, building and grid connection in two years, so that owned capacity stands by 2028
# (the defaults: 2.5 years to build and a 5-year grid queue, arrival in 2031)
FAST_SITE = {"options.domestic-buildout.build_lead_time": 2,
             "options.domestic-buildout.grid_connection_lead_time": 2}


def hedged(preset: str, reserve: float, switch_time: str = "0.25 yr", fast_site: bool = True):
    """The realist hedged portfolio's unserved share [%] and cost [USD/yr] by year."""
    overrides = {"portfolios.hedged.reserve.share": reserve,
                 "portfolios.hedged.reserve.switch_time": switch_time, **(FAST_SITE if fast_site else {})}
    results = capacity.run(preset, overrides=overrides).results
    mine = results[(results["scenario"] == "realist") & (results["option"] == "hedged")]
    by_year = lambda variable: mine[mine["variable"] == variable].set_index("year")["value"]
    return by_year("Demand|Unserved|Share"), by_year("Cost|Total")


def answer(reserve: float, switch_time: str, fast_site: bool = True) -> dict:
    unserved, _ = hedged("netherlands-frontier-cutoff-2028", reserve, switch_time, fast_site)
    _, insured = hedged("netherlands", reserve, switch_time, fast_site)     # no shock: what it costs
    _, bare = hedged("netherlands", 0.0, switch_time, fast_site)
    insurance = (insured - bare).loc[2028:].mean()
    return {"unserved_2028": unserved.loc[2028], "unserved_later": unserved.loc[2029:].max(),
            "insurance_musd_per_year": insurance / 1e6,
            "insurance_share": insurance / bare.loc[2028:].mean()}


if __name__ == "__main__":
    print("default lead times, no reserve:", answer(0.0, "0.25 yr", fast_site=False))
    for reserve, switch in ((0.2, "0.25 yr"), (0.5, "0.25 yr"), (1.0, "0.25 yr"), (0.9, "0.1 yr")):
        figures = answer(reserve, switch)
        print(f"reserve {reserve:.0%} of the frontier tier's peak, switched in {switch}: "
              f"unserved {figures['unserved_2028']:.1f} % in 2028, {figures['unserved_later']:.1f} % later; "
              f"insurance {figures['insurance_musd_per_year']:,.0f} MUSD/yr "
              f"({figures['insurance_share']:.1%} of the hedged portfolio's cost)")
