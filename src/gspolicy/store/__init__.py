"""The decision log (hash-chained, SQLite) and the household work ledger built from it."""
