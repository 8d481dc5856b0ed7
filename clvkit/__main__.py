"""``python -m clvkit``: the same as the ``clvkit`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
