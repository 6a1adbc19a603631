"""``python -m gspolicy`` runs the command line."""

from gspolicy.cli import entry

entry()
