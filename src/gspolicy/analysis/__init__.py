"""Analysis of checked packs: lint (``gspolicy check``) and what changes between versions
(``gspolicy diff``)."""
