"""Policy packs: the on-disk format, reading, checking against the schema, versions in force."""
