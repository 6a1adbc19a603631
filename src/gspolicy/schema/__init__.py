"""The household schema: declared in YAML, read into typed specs, used to validate records."""
