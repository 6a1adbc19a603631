"""Decisions and their explanations: built from trace events, rendered in zh and en and as JSON."""
