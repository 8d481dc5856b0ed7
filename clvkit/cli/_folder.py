"""The model folder that ``clvkit fit`` writes and ``clvkit score`` reads.

A folder holds one versioned JSON file per fitted model (``beta_geo.json``, ``gamma_gamma.json``; read with
:func:`clvkit.load_json`), :data:`SETTINGS_FILE`, the :class:`SummarySettings` the log was summarized with,
so ``score`` summarizes a new log the same way, and ``manifest.json``, naming every file with its SHA-256.
The folder is written here, as a whole or not at all; it is read by :mod:`clvkit._model_folder` (below the
command line, so the scoring service reads folders without importing it), whose names this module re-exports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._csvio import atomic_output
from .._model_folder import (
    DESIGN_FILE,
    DYNAMIC_DESIGN_FILE,
    SELECTION_FILE,
    SELECTION_SCHEMA,
    SETTINGS_FILE,
    SETTINGS_SCHEMA,
    SummarySettings,
    load_design,
    load_models,
)
from .._version import __version__
from ._console import Console
from ._output import write_folder_atomically

__all__ = ["DESIGN_FILE", "DYNAMIC_DESIGN_FILE", "SELECTION_FILE", "SELECTION_SCHEMA", "SETTINGS_FILE",
           "SETTINGS_SCHEMA", "SummarySettings", "load_design", "load_models", "model_file_name", "selection_json",
           "text_writer", "write_folder"]

#: The files ``clvkit fit`` and ``clvkit demo`` write: ``--force`` replaces a folder holding only these (and
#: those its manifest lists), never one holding anything else (a user's own scores.csv beside a model, say).
FIT_FILES = ("beta_geo.json", "gamma_gamma.json", SETTINGS_FILE, DESIGN_FILE, DYNAMIC_DESIGN_FILE, SELECTION_FILE)
DEMO_FILES = ("beta_geo.json", "gamma_gamma.json", "scores.csv", "composite_synthetic.csv")


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def model_file_name(model_name: str) -> str:
    """The file a fitted model of kind ``model_name`` is saved as in a folder: ``ParetoNBD`` -> ``pareto_nbd.json``."""
    return f"{_snake(model_name)}.json"


def selection_json(rec: Any) -> str:
    """The document of :data:`SELECTION_FILE`: the chosen model, the rule, the reason and every model's row."""
    from dataclasses import asdict

    doc = {"schema": SELECTION_SCHEMA, "schema_version": 1, "clvkit_version": __version__, "chosen": rec.chosen,
           "model": rec.best.model_name, "rule": rec.rule, "reason": rec.reason,
           "holdout_duration": rec.duration, "time_unit": rec.time_unit, "models": [asdict(row) for row in rec.scores]}
    return json.dumps(doc, indent=2, allow_nan=False)


def write_folder(console: Console, directory: Path, models: Sequence[Any], settings: SummarySettings | None,
                 files: Mapping[str, Callable[[Path], None]], *, known: Sequence[str] = FIT_FILES) -> int:
    """Write the models (and the settings, and ``files``: name -> writer) as the folder ``directory``; list them.

    The folder is written as a whole or not at all, with a ``manifest.json`` naming every file and its SHA-256
    (:func:`~clvkit.cli._output.write_folder_atomically`); ``clvkit score --models`` checks it. An existing
    folder is replaced only when it holds nothing but ``known`` files and those its manifest lists.

    Returns the exit status, 0.
    """
    writers: dict[str, Callable[[Path], None]] = {}
    for m in models:
        writers[model_file_name(m.model_name)] = text_writer(m.to_json() + "\n")
    if settings is not None:
        writers[SETTINGS_FILE] = text_writer(settings.to_json() + "\n")
    writers.update(files)
    with console.step(console.tr("writing {path}", path=directory)):
        paths = write_folder_atomically(directory, writers, known=known)
    console.print()
    console.print(console.tr("Wrote:"))
    for p in paths:
        console.print(f"  {p}")
    return 0


def text_writer(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        with atomic_output(path) as fh:
            fh.write(text.encode("utf-8"))

    return write
