"""Testing policy packs: YAML test cases next to the packs and their runner, their coverage, and properties.

`cases` reads and runs the YAML cases, `case_yaml` writes them, `pytest_plugin` runs them under
pytest, `coverage` measures what they cover (and fills the gaps), `properties` checks laws over
generated households.
"""
