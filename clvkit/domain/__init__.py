"""Typed per-record domain entities (Pydantic v2)."""

__all__: list[str] = []
