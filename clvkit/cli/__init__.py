"""The ``clvkit`` command line: ``demo``, ``fit``, ``score``, ``tier`` and ``binding``.

- ``clvkit demo`` runs the main job on the CDNOW sample that ships inside the package (no network):
  summary of the log, BG/NBD and Gamma-Gamma fits compared with the published estimates, a holdout check,
  the most valuable customers by CLV, tiers and synthetic referral value, and the models (JSON) and scores
  (CSV) written to a directory.
- ``clvkit fit LOG --customer-id C --datetime D [--monetary-value M]`` summarizes a transaction log (CSV
  or Parquet) and fits BG/NBD (and Gamma-Gamma when amounts are given); the models are saved as
  versioned JSON together with the summary settings.
- ``clvkit score LOG --models DIR --output scores.csv`` summarizes a log the same way, loads the models
  with :func:`clvkit.load_json` and writes per-customer P(alive), expected purchases, expected spend
  and discounted CLV (with ``--referrals``, also direct, indirect and total value).
- ``clvkit tier INPUT --policy NAME`` assigns tiers and prints the inventory; ``clvkit binding [DIR]``
  prints the binding report.
- ``clvkit serve --models DIR --host 127.0.0.1 --port N`` runs the scoring service (:mod:`clvkit.service`, the
  ``service`` extra) with uvicorn.

Results go to stdout, progress to stderr. Every :class:`~clvkit.errors.ClvkitError` and every
operating-system error (permission denied, disk full, ...) is reported as one line on stderr (no traceback)
with exit status 2, like a usage error.

Outputs are written atomically (a temporary file in the same folder, synced, then renamed): after a failure
no partial file is left and an old output is intact. A command refuses an output that is one of its inputs,
and replaces an existing output only with ``--force``. A model folder is written as a whole, with a
``manifest.json`` of its files' SHA-256, which ``score`` checks. Text cells of the CSV outputs that a
spreadsheet would run as formulas get a leading ``'`` (:func:`clvkit._csvio.neutralize_formula`).

CSV is read with the standard library (pandas is not needed; a UTF-8 byte-order mark is fine); Parquet needs
pyarrow (the ``frames`` extra). Times in CSV are ISO 8601 (``2024-03-01``, ``2024-03-01 14:05:00``,
``...+02:00``; times with a UTC offset are converted to UTC) unless ``--date-format`` gives a
:func:`~datetime.datetime.strptime` format.

Layout: one module per command (:mod:`~clvkit.cli.demo`, :mod:`~clvkit.cli.fit`, :mod:`~clvkit.cli.score`,
:mod:`~clvkit.cli.tier`, :mod:`~clvkit.cli.binding`), each adding its own subcommand to the parser, and
small shared modules: ``_args`` (number validators, shared options), ``_console`` (output and progress),
``_log`` (reading a transaction log), ``_folder`` (the model folder), ``_fitting`` and ``_scoring`` (the
steps ``demo`` shares with ``fit`` and ``score``), ``_main`` (parser and :func:`main`). Nothing else in
clvkit imports this package.
"""

from ._folder import SETTINGS_FILE as SETTINGS_FILE
from ._folder import SETTINGS_SCHEMA as SETTINGS_SCHEMA
from ._folder import SummarySettings
from ._log import read_log
from ._main import build_parser, main
from .demo import PUBLISHED_BGNBD as PUBLISHED_BGNBD
from .demo import PUBLISHED_BGNBD_LL as PUBLISHED_BGNBD_LL
from .demo import PUBLISHED_GAMMA_GAMMA as PUBLISHED_GAMMA_GAMMA

__all__ = ["SummarySettings", "build_parser", "main", "read_log"]
