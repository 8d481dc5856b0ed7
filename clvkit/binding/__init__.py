"""Binding: how firmly each customer is tied to the company rather than to one employee (to come)."""

__all__: list[str] = []
