"""Valuation engines: probabilistic customer-base models, spend models and CLV."""

__all__: list[str] = []
