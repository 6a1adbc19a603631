"""Statistics: the figures a pack of `kind: statistics` reports over decided households.

`quarter` parses a quarter (``2020Q4``) into its first and last days; `figures` is the
per-record reference computation — each indicator's table of group → value, with the ids of the
households behind every cell.  A statistics pack decides nothing: it reads records and their
outcomes through the functions invariants use.
"""

from gspolicy.stats.figures import Cell, Figures, Table, figures
from gspolicy.stats.quarter import Quarter, parse_quarter

__all__ = ["Cell", "Figures", "Quarter", "Table", "figures", "parse_quarter"]
