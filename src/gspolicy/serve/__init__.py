"""The decision service (`gspolicy serve`) and its playground."""
