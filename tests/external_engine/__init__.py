"""A tiny package outside clvkit that provides a value engine (tests of the engine protocol).

It imports nothing from clvkit: an engine only has to have ``value(summary) -> array``. Load it with
``clvkit.valuation.load_engine("external_engine.engines:SpendMultiple")`` or, from the command line,
``--engine external_engine.engines:SpendMultiple`` with ``tests/`` on ``PYTHONPATH``.
"""
