"""Shared test helpers (strategies and tiny fixtures), importable as ``support``."""
