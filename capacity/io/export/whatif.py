"""The workbook's What-if sheet: the headline chain of one year and region as live Excel formulas.

demand (tokens per use case and tier) -> peak and mean token rates -> GPU load -> GPUs (replicas,
redundancy, servers) -> IT and facility power -> energy -> cost, for every option. Named input
cells (`electricity_price`, `pue`, `facility_capex`, ...) feed the formulas, so an analyst can
change one in Excel and see the outputs move exactly as the Python model moves for the same
`--set`. Values the formulas start from (token volumes, per-GPU throughput, the domestic fleet's
vintage history) are written from the plan's chain; the formulas repeat the arithmetic of
`capacity.stages`, nothing more.
"""

from __future__ import annotations

import numpy as np
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName

from ...data.units import SECONDS_PER_YEAR
from ...model.options import TIERS

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
SHEET = "What-if"


def _ref(column: str, row: int) -> str:
    return f"${column}${row}"


WHOLE_UNITS = {"GPU", "token/yr", "token", "USD/yr", "USD", "USD/GPU", "W", "s", "t CO2/yr", "people"}
"""Units whose values read best as whole numbers with thousands separators."""


FORMULA_FORMATS = {"MW": "#,##0.0", "TWh/yr": "#,##0.000", "USD/GPU/h": "#,##0.00", "USD/Mtok": "#,##0.000",
                   "MUSD/MW": "#,##0.00", "": "#,##0.000", "1/yr": "0.000"}
"""The number format of a formula by its unit (three decimals where none is listed)."""


def table_header(sheet, row: int, labels: list[str]) -> None:
    """A table's header row: bold, wrapped within its column, the row tall enough for three lines."""
    for i, label in enumerate(labels):
        cell = sheet.cell(row=row, column=i + 1, value=label)
        cell.data_type = "s"
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    sheet.row_dimensions[row].height = 45


def line_format(value, unit: str = "") -> str:
    """A number format for a What-if value: whole numbers with thousands separators for counts
    and money, else as many decimals as the value's size needs (never a 15-digit float); a
    formula shows whole numbers for those units, else Excel's General (its value is not known
    when it is written)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        # a formula: its size is not known here, its unit is
        return "#,##0" if unit in WHOLE_UNITS else FORMULA_FORMATS.get(unit, "#,##0.000")
    magnitude = abs(float(value))
    if unit in WHOLE_UNITS or magnitude >= 1000 or float(value).is_integer():
        return "#,##0"
    if magnitude >= 1 or magnitude == 0:
        return "#,##0.00"
    if magnitude >= 0.001:
        return "0.000##"
    return "0.00E+00"


class _Writer:
    def __init__(self, sheet, book):
        self.sheet, self.book, self.row = sheet, book, 1

    def put(self, column: str, value, fmt: str | None = None, bold: bool = False):
        """Write `value` in `column` of the current row; only column B holds formulas (the
        tool's own), so text anywhere else is stored as text even when it starts with '='."""
        cell = self.sheet[f"{column}{self.row}"]
        cell.value = value
        if isinstance(value, str) and (column != "B" or not value.startswith("=")):
            cell.data_type = "s"
        if fmt:
            cell.number_format = fmt
        if bold:
            cell.font = Font(bold=True)
        return cell

    def name(self, name: str, column: str = "B") -> str:
        """Give the current row's `column` cell a workbook-level defined name."""
        self.book.defined_names[name] = DefinedName(
            name, attr_text=f"'{SHEET}'!{_ref(column, self.row)}")
        return name

    def line(self, label, value, unit="", name=None, fmt=None, is_input=False):
        """label | value | unit | name; returns the cell reference (or the name). Without
        `fmt`, the number format follows the value (`line_format`)."""
        self.put("A", label)
        cell = self.put("B", value, fmt or line_format(value, unit))
        self.put("C", unit).alignment = Alignment(indent=1)        # apart from the number
        if is_input:
            cell.fill = INPUT_FILL
        reference = _ref("B", self.row)
        if name:
            self.put("D", name)
            reference = self.name(name)
        self.row += 1
        return reference


def write_whatif(sheet, book, plan) -> None:
    """Fill `sheet` with the chain of the first scenario and region in the last year."""
    quantities, shared = plan.chain
    cells, work, rows = shared["cells"], shared["work"], plan.rows
    scenario, region = rows["scenario"].iloc[0], rows["region"].iloc[0]
    year = int(rows.loc[rows["scenario"] == scenario, "year"].max())
    mask = ((rows["scenario"] == scenario) & (rows["region"] == region) & (rows["year"] == year)).to_numpy()
    picked = np.flatnonzero(mask)
    series = int(cells.series[picked[0]])
    y = year - cells.first_grid_year
    first = rows.iloc[picked[0]]
    w = _Writer(sheet, book)
    w.put("A", f"What-if: scenario {scenario}, region {region}, year {year}", bold=True)
    w.row += 1
    w.put("A", "Yellow cells are named inputs: change one and every output below recalculates. "
               "Other numbers come from the model for this year.")
    w.row += 2

    # --- inputs ----------------------------------------------------------------------------
    w.put("A", "Inputs", bold=True)
    w.row += 1
    f = lambda column: float(first[column])
    electricity = w.line("electricity price", f("electricity_price") * 3.6e6, "USD/kWh",
                         "electricity_price", is_input=True)
    pue = w.line("PUE, domestic datacenters", f("do_pue"), "", "pue", is_input=True)
    facility_capex = w.line("facility capex per MW of IT", f("do_facility_capex"), "MUSD/MW",
                            "facility_capex", is_input=True)
    grid_capex = w.line("grid connection capex per MW", f("do_grid_connection_capex"), "MUSD/MW",
                        "grid_connection_capex", is_input=True)
    hosted_pue = w.line("PUE, rented capacity", f("ho_pue"), "", "hosted_pue", is_input=True)
    prices = {}
    for tier in TIERS:
        for kind in ("input", "output", "cached"):
            column = f"fa_{tier}_{kind}_price"
            prices[tier, kind] = w.line(f"{tier} tier API {kind} price (at the price year)",
                                        f(column) * 1e6, "USD/Mtok",
                                        f"{tier}_{kind}_price", is_input=True)
    w.row += 1

    # --- constants from the model ------------------------------------------------------------
    w.put("A", "From the model (this year)", bold=True)
    w.row += 1
    seconds = w.line("seconds per year", SECONDS_PER_YEAR, "s", fmt="#,##0")
    days = w.line("working days per year", f("working_days_per_year"), "day/yr")
    since = w.line("years since the API prices were read", year - f("fa_price_year"), "yr", fmt="0")
    factors = []
    for tier in TIERS:
        change = w.line(f"{tier} tier API price change per year", f(f"fa_{tier}_price_change"), "1/yr")
        factors.append(w.line(f"{tier} tier API price factor", f"=(1+{change})^{since}", ""))
    tables = {}
    for option, prefix in (("hosted-open-weight", "ho"), ("frontier-api", "fa")):
        tput = quantities[option]["_throughput"]
        util = w.line(f"{option}: target utilisation", f("target_utilisation"), "")
        redundancy = w.line(f"{option}: redundancy", f("redundancy"), "")
        board = w.line(f"{option}: GPU board power", float(_fleet_gpu(plan, option, first, "board_power")), "W")
        server = w.line(f"{option}: GPUs per server", float(_fleet_gpu(plan, option, first, "gpus_per_server")), "GPU")
        overhead = w.line(f"{option}: server overhead", f("server_overhead"), "")
        idle = w.line(f"{option}: idle power share", f("idle_power_fraction"), "")
        replicas = [w.line(f"{option}: {tier} tier GPUs per replica",
                           float(np.nanmax(tput.gpus_per_replica[picked, t])), "GPU")
                    for t, tier in enumerate(TIERS)]
        tables[option] = dict(util=util, redundancy=redundancy, board=board, server=server,
                              overhead=overhead, idle=idle, replicas=replicas, tput=tput)
    # a generation's rent moves on its trend from the price year, or from its launch if later
    rental_factor = (1 + f("ho_rental_price_change")) ** (year - f("ho_rent_year"))
    market_rent = w.line("rented GPU market price this year", f("ho_rental_price") * rental_factor * 3600,
                         "USD/GPU/h")
    # the floor under rent: the provider's cost of owning the GPU rented this year, with its markup
    hosted = tables["hosted-open-weight"]
    floor = {name: w.line(f"rent floor: {label}", f(f"ho_floor_{name}"), unit)
             for name, label, unit in (("server_lifetime", "server life", "yr"),
                                       ("server_om", "server O&M", "1/yr"),
                                       ("facility_capex", "facility capex per W of IT", "USD/W"),
                                       ("facility_lifetime", "facility life", "yr"),
                                       ("facility_om", "facility O&M", "1/yr"),
                                       ("discount_rate", "cost of capital", "1/yr"),
                                       ("markup", "markup over cost", ""))}
    server_cost = w.line("rent floor: server price of the rented GPU, bought this year",
                         f("ho_server_capex"), "USD/GPU", fmt="#,##0")
    rent_electricity = ("electricity_price" if f("ho_domestic") > 0.5 else
                        w.line("rent floor: electricity price abroad", f("fa_serving_electricity_price") * 3.6e6,
                               "USD/kWh"))
    rate = floor["discount_rate"]
    crf = lambda life: f"{rate}*(1+{rate})^{life}/((1+{rate})^{life}-1)"
    rent_floor = w.line(
        "rent floor per GPU-hour",
        f"=(1+{floor['markup']})*(({server_cost}*({crf(floor['server_lifetime'])}+{floor['server_om']})"
        f"+{hosted['board']}*{hosted['overhead']}*{floor['facility_capex']}"
        f"*({crf(floor['facility_lifetime'])}+{floor['facility_om']}))*3600/{seconds}"
        f"+{hosted['board']}*{hosted['overhead']}*hosted_pue/1000*{rent_electricity})", "USD/GPU/h")
    rental = w.line("on-demand GPU rent this year (the market price, or the floor where higher)",
                    f"=MAX({market_rent},{rent_floor})", "USD/GPU/h")
    offshore_pue = w.line("PUE, the labs' datacenters abroad", f("fa_pue"), "")
    w.row += 1

    # --- demand and load, per use case and tier ------------------------------------------------
    w.put("A", "Demand and GPU load", bold=True)
    w.row += 1
    header = ["use case", "tier", "input tokens [token/yr]", "output tokens [token/yr]",
              "cached input share", "peak-to-average", "peak output rate [token/s]",
              "mean output rate [token/s]", "rented: tokens/s per GPU", "rented: peak load [GPU]",
              "rented: mean load [GPU]", "offshore: tokens/s per GPU", "offshore: peak load [GPU]",
              "offshore: mean load [GPU]", "API spend [USD/yr]", "active days [day/yr]"]
    table_header(sheet, w.row, header)
    w.row += 1
    top = w.row
    for t, tier in enumerate(TIERS):
        for index in picked:
            r = w.row
            values = [str(rows["use_case"].iloc[index]), tier, float(work["input_tokens"][index, t]),
                      float(work["output_tokens"][index, t]), float(work["cached_input_share"][index]),
                      float(rows["peak_to_average"].iloc[index])]
            for i, value in enumerate(values):
                cell = sheet.cell(row=r, column=i + 1, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
            # work use runs on the working days; consumer use on its own days (every day)
            active = float(rows["active_days_per_year"].iloc[index])
            sheet[f"P{r}"] = f"={days}" if active == f("working_days_per_year") else active
            sheet[f"G{r}"] = f"=D{r}/P{r}/86400*F{r}"
            sheet[f"H{r}"] = f"=D{r}/{seconds}"
            sheet[f"I{r}"] = float(tables["hosted-open-weight"]["tput"].output_tokens_per_s_per_gpu[index, t])
            sheet[f"J{r}"] = f"=IF(G{r}>0,G{r}/I{r},0)"
            sheet[f"K{r}"] = f"=IF(H{r}>0,H{r}/I{r},0)"
            sheet[f"L{r}"] = float(tables["frontier-api"]["tput"].output_tokens_per_s_per_gpu[index, t])
            sheet[f"M{r}"] = f"=IF(G{r}>0,G{r}/L{r},0)"
            sheet[f"N{r}"] = f"=IF(H{r}>0,H{r}/L{r},0)"
            price = lambda kind: prices[tier, kind]
            sheet[f"O{r}"] = (f"=(C{r}*((1-E{r})*{price('input')}+E{r}*{price('cached')})"
                              f"+D{r}*{price('output')})/1000000*{factors[t]}")
            for column in "CDGHIJKLMNO":
                sheet[f"{column}{r}"].number_format = "#,##0.00"
            w.row += 1
    bottom = w.row - 1
    w.row += 1
    tokens = w.line("tokens this year", f"=SUM(C{top}:D{bottom})", "token/yr", fmt="#,##0")
    w.row += 1

    # --- fleets ---------------------------------------------------------------------------------
    def fleet(option, load_column, mean_column, pue_cell):
        table = tables[option]
        gpus, it_peak, it_mean, loads, means = [], [], [], [], []
        for t, tier in enumerate(TIERS):
            rows_range = (f"{top + t * len(picked)}", f"{top + (t + 1) * len(picked) - 1}")
            load = w.line(f"{option}: {tier} tier peak load", f"=SUM({load_column}{rows_range[0]}:{load_column}{rows_range[1]})", "GPU")
            mean = w.line(f"{option}: {tier} tier mean load", f"=SUM({mean_column}{rows_range[0]}:{mean_column}{rows_range[1]})", "GPU")
            k = table["replicas"][t]
            count = w.line(
                f"{option}: {tier} tier GPUs",
                f"=CEILING(MAX(0,CEILING(MAX(0,CEILING(MAX(0,{load}/{table['util']}/{k}-1E-9),1)"
                f"*(1+{table['redundancy']})-1E-9),1)*{k}/{table['server']}-1E-9),1)*{table['server']}",
                "GPU", fmt="#,##0")
            draw = lambda busy: f"({table['idle']}+(1-{table['idle']})*MIN(1,MAX(0,{busy})))"
            peak_busy = f"IF({count}>0,{load}/{count},0)"
            mean_busy = f"IF({count}>0,{mean}/{count},0)"
            it_peak.append(w.line(f"{option}: {tier} tier IT power at peak",
                                  f"={count}*{table['board']}*{table['overhead']}*{draw(peak_busy)}/1000000", "MW"))
            it_mean.append(w.line(f"{option}: {tier} tier IT power, mean",
                                  f"={count}*{table['board']}*{table['overhead']}*{draw(mean_busy)}/1000000", "MW"))
            gpus.append(count)
            loads.append(load)
            means.append(mean)
        if option == "hosted-open-weight":
            return gpus, it_peak, loads, means
        total = w.line(f"{option}: GPUs", "=" + "+".join(gpus), "GPU", fmt="#,##0")
        facility = w.line(f"{option}: facility power", f"=({'+'.join(it_peak)})*{pue_cell}", "MW")
        energy = w.line(f"{option}: electricity", f"=({'+'.join(it_mean)})*{pue_cell}*{seconds}/3600000000", "TWh/yr")
        return total, facility, energy, gpus, it_mean

    w.put("A", "Rented fleet (hosted-open-weight)", bold=True)
    w.row += 1
    counts, it_peaks, loads, means = fleet("hosted-open-weight", "J", "K", "hosted_pue")
    hosted = tables["hosted-open-weight"]
    ratio = w.line("reserved rent over on-demand rent", f("ho_reserved_price_ratio"), "")
    year_round = w.line("reserved fleet all year (1) or reserved baseline and on-demand burst (0)",
                        f("ho_year_round"), "", fmt="0")
    supply = w.line("supply: 0 rent, 1 per token from hosts, 2 the cheaper", f("ho_supply"), "", fmt="0")
    reserved = w.line("reserved rent (never below the floor)", f"=MAX({market_rent}*{ratio},{rent_floor})",
                      "USD/GPU/h")
    host_factor = w.line("host per-token price factor", (1 + f("ho_host_price_change")) ** (
        year - f("ho_host_price_year")), "")
    national, national_it, national_mean_it, chosen = [], [], [], []
    draw = lambda busy: f"({hosted['idle']}+(1-{hosted['idle']})*MIN(1,MAX(0,{busy})))"
    for t, tier in enumerate(TIERS):
        count, load, mean, k = counts[t], loads[t], means[t], hosted["replicas"][t]
        baseline = w.line(
            f"hosted-open-weight: {tier} tier reserved baseline GPUs (sized to the mean load)",
            f"=IF({year_round}=1,{count},MIN({count},CEILING(MAX(0,CEILING(MAX(0,{mean}/{hosted['util']}"
            f"/{k}-1E-9),1)*{k}/{hosted['server']}-1E-9),1)*{hosted['server']}))", "GPU", fmt="#,##0")
        share = w.line(f"hosted-open-weight: {tier} tier share of the year the burst is held",
                       f"=IF({load}>0,{mean}/{load},0)", "")
        held = w.line(f"hosted-open-weight: {tier} tier GPUs held on average",
                      f"={baseline}+({count}-{baseline})*{share}", "GPU")
        rent = w.line(f"hosted-open-weight: {tier} tier rent",
                      f"=({baseline}*{reserved}+({count}-{baseline})*{share}*{rental})*{seconds}/3600",
                      "USD/yr", fmt="#,##0")
        tier_prices = {kind: w.line(f"host price of the {tier} tier model: {kind.replace('_', ' ')} (at its price year)",
                                    f(f"ho_{tier}_host_{kind}_price") * 1e6, "USD/Mtok")
                       for kind in ("input", "cached_input", "output")}
        first_row, last_row = top + t * len(picked), top + (t + 1) * len(picked) - 1
        listed = w.line(f"hosted-open-weight: {tier} tier per token at host list prices",
                        f"=SUMPRODUCT(C{first_row}:C{last_row},(1-E{first_row}:E{last_row})*{tier_prices['input']}"
                        f"+E{first_row}:E{last_row}*{tier_prices['cached_input']})/1000000*{host_factor}"
                        f"+SUM(D{first_row}:D{last_row})*{tier_prices['output']}/1000000*{host_factor}",
                        "USD/yr", fmt="#,##0")
        host = w.line(f"hosted-open-weight: {tier} tier per token (never below the host's cost)",
                      f"=MAX({listed},{mean}/{hosted['util']}*{rent_floor}*{seconds}/3600)", "USD/yr", fmt="#,##0")
        buy = w.line(f"hosted-open-weight: {tier} tier bought per token (1) or rented (0)",
                     f"=IF({supply}=1,1,IF(AND({supply}=2,{host}<{rent}),1,0))", "", fmt="0")
        chosen.append(f"IF({buy}=1,{host},{rent})")
        at_home = f"IF({buy}=1,0,1)*{f('ho_domestic'):g}"
        national.append(f"{count}*{at_home}")
        national_it.append(f"{it_peaks[t]}*{at_home}")
        national_mean_it.append(f"{held}*{hosted['board']}*{hosted['overhead']}"
                                f"*{draw(f'IF({held}>0,{mean}/{held},0)')}/1000000*{at_home}")
    hosted_gpus = w.line("hosted-open-weight: GPUs rented on national soil", "=" + "+".join(national),
                         "GPU", fmt="#,##0")
    hosted_facility = w.line("hosted-open-weight: facility power", f"=({'+'.join(national_it)})*hosted_pue", "MW")
    hosted_energy = w.line("hosted-open-weight: electricity",
                           f"=({'+'.join(national_mean_it)})*hosted_pue*{seconds}/3600000000", "TWh/yr")
    hosted_cost = w.line("hosted-open-weight: cost", "=" + "+".join(chosen), "USD/yr", fmt="#,##0")
    w.row += 1
    w.put("A", "The labs' fleet abroad behind the API (frontier-api)", bold=True)
    w.row += 1
    offshore_gpus, offshore_facility, offshore_energy, tier_gpus, tier_it_mean = fleet(
        "frontier-api", "M", "N", offshore_pue)
    # the floor under API prices: the labs' cost of serving each tier, with their markup
    serving = {name: w.line(f"labs' serving cost: {label}", f(f"fa_serving_{name}") * scale, unit)
               for name, label, scale, unit in (
                   ("server_capex", "server capex per GPU (this year's generation)", 1, "USD/GPU"),
                   ("server_lifetime", "server life", 1, "yr"), ("server_om", "server O&M", 1, "1/yr"),
                   ("facility_capex", "facility capex per W of IT", 1, "USD/W"),
                   ("facility_lifetime", "facility life", 1, "yr"),
                   ("facility_om", "facility O&M", 1, "1/yr"),
                   ("discount_rate", "cost of capital", 1, "1/yr"),
                   ("electricity_price", "electricity price", 3.6e6, "USD/kWh"),
                   ("markup", "markup over cost", 1, ""))}
    crf = lambda life: (f"{serving['discount_rate']}*(1+{serving['discount_rate']})^{life}"
                        f"/((1+{serving['discount_rate']})^{life}-1)")
    table = tables["frontier-api"]
    per_gpu = w.line("labs' cost per GPU-year before energy",
                     f"={serving['server_capex']}*({crf(serving['server_lifetime'])}+{serving['server_om']})"
                     f"+{table['board']}*{table['overhead']}*{serving['facility_capex']}"
                     f"*({crf(serving['facility_lifetime'])}+{serving['facility_om']})", "USD/GPU/yr",
                     fmt="#,##0")
    paid = []
    for t, tier in enumerate(TIERS):
        first_row, last_row = top + t * len(picked), top + (t + 1) * len(picked) - 1
        listed = w.line(f"frontier-api: {tier} tier at list prices", f"=SUM(O{first_row}:O{last_row})",
                        "USD/yr", fmt="#,##0")
        floor = w.line(f"frontier-api: {tier} tier serving-cost floor",
                       f"=(1+{serving['markup']})*({tier_gpus[t]}*{per_gpu}+{tier_it_mean[t]}*{offshore_pue}"
                       f"*1000*{seconds}/3600*{serving['electricity_price']})", "USD/yr", fmt="#,##0")
        paid.append(f"MAX({listed},{floor})")
    api_cost = w.line("frontier-api: cost (each tier: list price, or the floor where higher)",
                      "=" + "+".join(paid), "USD/yr", fmt="#,##0")
    w.row += 1

    # --- domestic buildout: the vintage history up to this year --------------------------------
    domestic = quantities["domestic-buildout"]
    w.put("A", "Domestic buildout", bold=True)
    w.row += 1
    rate = w.line("discount rate", f("do_discount_rate"), "1/yr")
    lives = {kind: w.line(f"{kind} life", f(f"do_{kind}_lifetime"), "yr")
             for kind in ("server", "facility", "grid")}
    crf = {kind: w.line(f"capital recovery factor, {kind}",
                        f"=IF({rate}=0,1/{life},{rate}*(1+{rate})^{life}/((1+{rate})^{life}-1))", "1/yr")
           for kind, life in lives.items()}
    server_om = w.line("server O&M", f("do_server_om"), "1/yr")
    facility_om = w.line("facility O&M", f("do_facility_om"), "1/yr")
    it_mean = w.line("IT power, mean", float(domestic["_it_mean"][series, y]) / 1e6, "MW")
    it_peak = w.line("IT power at peak", float(quantities["domestic-buildout"]["it_power"][series, y]) / 1e6, "MW")
    w.row += 1
    labels = ["vintage", "server standing", "facility standing", "grid standing",
              "GPUs bought, frontier tier", "GPUs bought, open tier", "server capex, frontier tier [USD/GPU]",
              "server capex, open tier [USD/GPU]", "facility IT added [MW]", "server spend [USD]"]
    table_header(sheet, w.row, labels)
    w.row += 1
    first_vintage = w.row
    first_year = int(rows.loc[rows["scenario"] == scenario, "first_year"].iloc[0])
    for vintage in range(first_year, year + 1):
        v = vintage - cells.first_grid_year
        r = w.row
        sheet[f"A{r}"] = vintage
        for column, kind in (("B", "server"), ("C", "facility"), ("D", "grid")):
            sheet[f"{column}{r}"] = f"=IF(AND({year}-A{r}>=0,{year}-A{r}<MAX(1,ROUND({lives[kind]},0))),1,0)"
        sheet[f"E{r}"] = float(domestic["_bought_gpus"][series, 0, v])
        sheet[f"F{r}"] = float(domestic["_bought_gpus"][series, 1, v])
        sheet[f"G{r}"] = float(domestic["_server_capex_per_gpu"][series, 0, v])
        sheet[f"H{r}"] = float(domestic["_server_capex_per_gpu"][series, 1, v])
        sheet[f"I{r}"] = float(domestic["_facility_it_added"][series, v]) / 1e6
        sheet[f"J{r}"] = f"=E{r}*G{r}+F{r}*H{r}"
        for column, fmt in zip("BCDEFGHIJ", ["0"] * 3 + ["#,##0"] * 4 + ["#,##0.00", "#,##0"]):
            sheet[f"{column}{r}"].number_format = fmt
        w.row += 1
    last_vintage = w.row - 1
    span = lambda column: f"{column}{first_vintage}:{column}{last_vintage}"
    w.row += 1
    server_standing = f"SUMPRODUCT({span('B')},{span('J')})"
    facility_standing = f"SUMPRODUCT({span('C')},{span('I')})*1000000*{facility_capex}"
    grid_standing = f"SUMPRODUCT({span('D')},{span('I')})*1000000*{pue}*{grid_capex}"
    capital = w.line("domestic-buildout: capital cost",
                     f"={crf['server']}*{server_standing}+{crf['facility']}*{facility_standing}"
                     f"+{crf['grid']}*{grid_standing}", "USD/yr", fmt="#,##0")
    energy = w.line("domestic-buildout: electricity", f"={it_mean}*{pue}*{seconds}/3600000000", "TWh/yr")
    operating = w.line("domestic-buildout: operating cost",
                       f"={server_om}*{server_standing}+{facility_om}*{facility_standing}"
                       f"+{energy}*1000000000*{electricity}", "USD/yr", fmt="#,##0")
    domestic_facility = w.line("domestic-buildout: facility power", f"={it_peak}*{pue}", "MW")
    domestic_cost = w.line("domestic-buildout: cost", f"={capital}+{operating}", "USD/yr", fmt="#,##0")
    domestic_gpus = w.line("domestic-buildout: GPUs", f"=SUMPRODUCT({span('B')},{span('E')})"
                                                      f"+SUMPRODUCT({span('B')},{span('F')})", "GPU", fmt="#,##0")
    w.row += 1

    # --- outputs ----------------------------------------------------------------------------
    w.put("A", "Outputs", bold=True)
    w.row += 1
    for option, key, (gpus, facility, energy_cell, total) in (
            ("frontier-api", "frontier_api", (offshore_gpus, offshore_facility, offshore_energy, api_cost)),
            ("hosted-open-weight", "hosted_open_weight", (hosted_gpus, hosted_facility, hosted_energy, hosted_cost)),
            ("domestic-buildout", "domestic_buildout", (domestic_gpus, domestic_facility, energy, domestic_cost))):
        where = " (offshore)" if option == "frontier-api" else ""
        w.line(f"{option}: GPUs{where}", f"={gpus}", "GPU", f"{key}_gpus", fmt="#,##0")
        w.line(f"{option}: facility power{where}", f"={facility}", "MW", f"{key}_facility_mw")
        w.line(f"{option}: electricity{where}", f"={energy_cell}", "TWh/yr", f"{key}_twh")
        w.line(f"{option}: cost", f"={total}", "USD/yr", f"{key}_cost", fmt="#,##0")
        w.line(f"{option}: cost per million tokens", f"={total}/{tokens}*1000000", "USD/Mtok",
               f"{key}_usd_per_mtok")
    sheet.column_dimensions["A"].width = 72   # the longest label, "…: open tier bought per token (1) or rented (0)"
    sheet.column_dimensions["B"].width = 22
    for column in "CDEFGHIJKLMNO":
        sheet.column_dimensions[column].width = 16


def _fleet_gpu(plan, option: str, row, parameter: str) -> float:
    """A property of the GPU an option's fleet uses in a row's year, from the run's catalogue."""
    from ...model.lookup import tables_for
    column = {"hosted-open-weight": "ho_gpu", "frontier-api": "fa_gpu"}[option]
    return float(tables_for(plan.scenario.catalog).gpu([row[column]], parameter)[0])
