"""The model folder that ``clvkit fit`` writes and ``clvkit score`` reads.

A folder holds one versioned JSON file per fitted model (``beta_geo.json``, ``gamma_gamma.json``; read with
:func:`clvkit.load_json`) and :data:`SETTINGS_FILE`, the :class:`SummarySettings` the log was summarized with,
so ``score`` summarizes a new log the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import InvalidInputError
from ._console import Console, one_line

__all__ = ["SETTINGS_FILE", "SETTINGS_SCHEMA", "SummarySettings", "load_models", "write_folder"]

#: Name of the file ``clvkit fit`` writes next to the models, recording how the log was summarized.
SETTINGS_FILE = "summary_settings.json"
SETTINGS_SCHEMA = "clvkit.cli.summary_settings"
#: The ``schema`` of a fitted model's JSON (see :func:`clvkit.load_json`).
_MODEL_SCHEMA = "clvkit.fitted_model"


@dataclass(frozen=True)
class SummarySettings:
    """How a log is turned into a summary; ``clvkit fit`` saves them so ``clvkit score`` can reuse them."""

    customer_id: str
    datetime: str
    monetary_value: str | None
    freq: str
    time_unit: str
    date_format: str | None = None

    def to_json(self) -> str:
        doc = {"schema": SETTINGS_SCHEMA, "schema_version": 1, "clvkit_version": __version__,
               "customer_id": self.customer_id, "datetime": self.datetime,
               "monetary_value": self.monetary_value, "freq": self.freq, "time_unit": self.time_unit,
               "date_format": self.date_format}
        return json.dumps(doc, indent=2)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], source: Path) -> SummarySettings:
        try:
            return cls(customer_id=str(doc["customer_id"]), datetime=str(doc["datetime"]),
                       monetary_value=None if doc.get("monetary_value") is None else str(doc["monetary_value"]),
                       freq=str(doc["freq"]), time_unit=str(doc["time_unit"]),
                       date_format=None if doc.get("date_format") is None else str(doc["date_format"]))
        except KeyError as exc:
            raise InvalidInputError(f"The settings file {source} lacks the field {exc}; rewrite it with "
                                    f"'clvkit fit'.") from None


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def write_folder(console: Console, directory: Path, models: Sequence[Any], settings: SummarySettings | None,
                 files: Mapping[str, Callable[[Path], None]]) -> int:
    """Write the models (and the settings, and ``files``: name -> writer) to ``directory``; list what was written.

    Returns the exit status, 0.
    """
    with console.step(f"writing {directory}"):
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for m in models:
            path = directory / f"{_snake(m.model_name)}.json"
            path.write_text(m.to_json() + "\n", encoding="utf-8")
            paths.append(path)
        if settings is not None:
            settings_path = directory / SETTINGS_FILE
            settings_path.write_text(settings.to_json() + "\n", encoding="utf-8")
            paths.append(settings_path)
        for name, write in files.items():
            write(directory / name)
            paths.append(directory / name)
    console.print()
    console.print("Wrote:")
    for p in paths:
        console.print(f"  {p}")
    return 0


def _load_model_file(path: Path) -> Any:
    from .. import load_json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"The model file {path} does not exist.") from None
    try:
        return load_json(text)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {one_line(exc)}") from None


def load_models(model_dir: str | None, model_files: Sequence[str] | None
                ) -> tuple[Any, Any | None, SummarySettings | None]:
    """The transaction model, the spend model (or None) and the saved summary settings (or None)."""
    from ..valuation import SpendModel, TransactionModel

    files: list[Path] = [Path(f) for f in (model_files or [])]
    settings: SummarySettings | None = None
    if model_dir is not None:
        d = Path(model_dir)
        if not d.is_dir():
            raise InvalidInputError(f"The model directory {d} does not exist; write one with 'clvkit fit'.")
        for path in sorted(d.glob("*.json")):
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("schema") == SETTINGS_SCHEMA:
                settings = SummarySettings.from_document(doc, path)
            elif isinstance(doc, dict) and doc.get("schema") == _MODEL_SCHEMA:
                files.append(path)
    loaded = [(p, _load_model_file(p)) for p in files]
    transaction = [(p, m) for p, m in loaded if isinstance(m, TransactionModel)]
    spend = [(p, m) for p, m in loaded if isinstance(m, SpendModel)]
    where = f"in {model_dir}" if model_dir else "among the --model files"
    if not transaction:
        raise InvalidInputError(f"No transaction model (e.g. BG/NBD) {where}; fit one with 'clvkit fit'.")
    if len(transaction) > 1 or len(spend) > 1:
        names = [str(p) for p, _ in transaction + spend]
        raise InvalidInputError(f"Several models of one kind {where}: {names}. Pick one transaction model and "
                                f"at most one spend model with --model FILE.")
    return transaction[0][1], (spend[0][1] if spend else None), settings
