"""The columnar runner: packs lowered into plans run on Polars frames, a registry decided a table at a time."""
