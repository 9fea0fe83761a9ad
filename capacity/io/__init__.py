"""What goes out: the Excel input template's writer and the exporters (workbook, What-if
sheet, CSV/JSON/IAMC, atomic file writing). Views of a `Plan`; they compute no model quantities.
"""
