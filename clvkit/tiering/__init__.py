"""Tiering policies: value tiers, key customers, scorecards, segments and migration (to come)."""

__all__: list[str] = []
