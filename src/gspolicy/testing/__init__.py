"""Testing policy packs: YAML test cases next to the packs and their runner."""
