"""The model folder that ``clvkit fit`` writes, read back: by ``clvkit score`` and by the scoring service.

A folder holds one versioned JSON file per fitted model (``beta_geo.json``, ``gamma_gamma.json``; read with
:func:`clvkit.load_json`), :data:`SETTINGS_FILE`, the :class:`SummarySettings` the log was summarized with,
so a new log is summarized the same way, and :data:`MANIFEST_FILE`, naming every file with its SHA-256.
:func:`load_models` refuses a folder whose files do not match the manifest (mixed from two runs, or edited)
and an old folder without one. JSON files are read bounded in size and nesting (:func:`read_json_file`).

This module is below the command line (``clvkit.cli`` writes folders and re-exports these names; the service
reads them) so that no library layer imports the command line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import InvalidInputError

__all__ = ["DESIGN_FILE", "DYNAMIC_DESIGN_FILE", "MANIFEST_FILE", "MANIFEST_SCHEMA", "MAX_JSON_BYTES",
           "MAX_JSON_DEPTH", "SELECTION_FILE", "SELECTION_SCHEMA", "SETTINGS_FILE", "SETTINGS_SCHEMA",
           "SummarySettings", "load_design", "load_models", "one_line", "parse_json_text", "read_json_file",
           "read_json_text", "sha256_of"]

#: The file naming every file of a model folder with its SHA-256.
MANIFEST_FILE = "manifest.json"
MANIFEST_SCHEMA = "clvkit.cli.model_folder"
#: Largest JSON file (models, settings, configurations) the command line reads: far above any real one.
MAX_JSON_BYTES = 16 * 1024 * 1024
#: Deepest nesting of arrays and objects accepted in JSON (clvkit's own files nest 3 levels).
MAX_JSON_DEPTH = 64
#: Name of the file ``clvkit fit`` writes next to the models, recording how the log was summarized.
SETTINGS_FILE = "summary_settings.json"
SETTINGS_SCHEMA = "clvkit.cli.summary_settings"
#: The ``schema`` of a fitted model's JSON (see :func:`clvkit.load_json`).
_MODEL_SCHEMA = "clvkit.fitted_model"
#: The file holding the coding of the covariates a model was fitted with (``clvkit fit --covariates``).
DESIGN_FILE = "covariate_design.json"
#: The file holding the coding of the time-varying covariates (``clvkit fit --dynamic-covariates``).
DYNAMIC_DESIGN_FILE = "dynamic_covariate_design.json"
#: The table of models ``clvkit fit --model auto`` compared, the rule and the choice (read by people, not by ``score``).
SELECTION_FILE = "model_selection.json"
SELECTION_SCHEMA = "clvkit.cli.model_selection"


# ------------------------------------------------------------------------------------------ JSON in
def _depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in JSON text, outside strings (a linear scan, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def parse_json_text(text: str, where: str) -> Any:
    """``json.loads`` with the nesting limit; every failure an :class:`InvalidInputError` starting with ``where``."""
    if _depth(text) > MAX_JSON_DEPTH:
        raise InvalidInputError(f"{where} nests arrays/objects deeper than {MAX_JSON_DEPTH} levels; it is not a "
                                f"clvkit file or configuration.")
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for stray surrogates
        raise InvalidInputError(f"{where} is not valid JSON: {exc}.") from None


def read_json_text(path: Path, where: str | None = None) -> str:
    """The UTF-8 text of a JSON file (a byte-order mark is fine), at most :data:`MAX_JSON_BYTES`."""
    where = where or f"The file {path}"
    if not path.is_file():
        state = "is not a file" if path.exists() else "does not exist"
        raise InvalidInputError(f"{where} {state}.")
    with path.open("rb") as fh:
        data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise InvalidInputError(f"{where} is larger than {MAX_JSON_BYTES // 2**20} MiB; it is not a clvkit file.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInputError(f"{where} is not UTF-8 text ({exc.reason} at line {line}). Save it as UTF-8.") from None


def read_json_file(path: Path, where: str | None = None) -> tuple[str, Any]:
    """The text and the parsed document of a JSON file, bounded in size and depth."""
    where = where or f"The file {path}"
    text = read_json_text(path, where)
    return text, parse_json_text(text, where)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def one_line(exc: BaseException) -> str:
    """An error message on one line: multi-problem messages are joined with '; '."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    head, rest = lines[0], [line.removeprefix("- ") for line in lines[1:]]
    rest = [item.rstrip(".") for item in rest[:-1]] + rest[-1:]
    return head + (" " + "; ".join(rest) if rest else "")


@dataclass(frozen=True)
class SummarySettings:
    """How a log is turned into a summary; ``clvkit fit`` saves them so ``clvkit score`` can reuse them.

    ``period_column`` names the period column of the time-varying covariates file (``fit --dynamic-covariates``);
    settings with one are written as ``schema_version`` 2, the others as version 1, which older clvkit reads.
    """

    customer_id: str
    datetime: str
    monetary_value: str | None
    freq: str
    time_unit: str
    date_format: str | None = None
    period_column: str | None = None

    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "schema": SETTINGS_SCHEMA, "schema_version": 1 if self.period_column is None else 2,
            "clvkit_version": __version__, "customer_id": self.customer_id, "datetime": self.datetime,
            "monetary_value": self.monetary_value, "freq": self.freq, "time_unit": self.time_unit,
            "date_format": self.date_format}
        if self.period_column is not None:
            doc["period_column"] = self.period_column
        return json.dumps(doc, indent=2)

    @classmethod
    def from_document(cls, doc: Any, source: Path) -> SummarySettings:
        """The settings of a parsed ``summary_settings.json``, checked strictly (types, units, schema version).

        Raises
        ------
        InvalidInputError
            Naming the file and the field, for a document that ``clvkit fit`` did not write.
        """
        from ._timeunits import UNIT_DAYS

        def fail(what: str) -> InvalidInputError:
            return InvalidInputError(f"The settings file {source} {what}; write the folder again with 'clvkit fit'.")

        if not isinstance(doc, dict) or doc.get("schema") != SETTINGS_SCHEMA:
            raise fail(f"is not clvkit summary settings (schema {SETTINGS_SCHEMA!r})")
        version = doc.get("schema_version")
        if type(version) is not int or version not in (1, 2):
            raise fail(f"has schema_version {version!r}; this clvkit reads versions 1 and 2")
        if version == 1 and "period_column" in doc:
            raise fail("has a 'period_column', which schema_version 1 does not have")
        fields: dict[str, str | None] = {}
        for name, optional in (("customer_id", False), ("datetime", False), ("monetary_value", True),
                               ("freq", False), ("time_unit", False), ("date_format", True),
                               ("period_column", version == 1)):
            if name not in doc and not optional:
                raise fail(f"lacks the field '{name}'")
            value = doc.get(name)
            if not (isinstance(value, str) and value) and not (optional and value is None):
                raise fail(f"has an invalid '{name}': {value!r} (expected {'text or null' if optional else 'text'})")
            fields[name] = value
        for name in ("freq", "time_unit"):
            if fields[name] not in UNIT_DAYS:
                raise fail(f"has an invalid '{name}': {fields[name]!r} (expected one of {list(UNIT_DAYS)})")
        return cls(customer_id=str(fields["customer_id"]), datetime=str(fields["datetime"]),
                   monetary_value=fields["monetary_value"], freq=str(fields["freq"]),
                   time_unit=str(fields["time_unit"]), date_format=fields["date_format"],
                   period_column=fields["period_column"])


def _load_model_file(path: Path) -> Any:
    from . import load_json

    text, _ = read_json_file(path, f"The model file {path}")
    try:
        return load_json(text)
    except (InvalidInputError, RecursionError) as exc:
        raise InvalidInputError(f"The model file {path} cannot be loaded: {one_line(exc)}") from None


def _checked_folder(d: Path) -> dict[str, Any]:
    """The files of a model folder, checked against its manifest: name -> parsed JSON (``None``: not JSON)."""
    where = f"The model folder {d}"
    manifest_path = d / MANIFEST_FILE
    if not manifest_path.is_file():
        raise InvalidInputError(f"{where} has no {MANIFEST_FILE}: it was written by an older clvkit (or by hand), so "
                                f"its files cannot be checked; re-run 'clvkit fit' to write the folder again.")
    _, manifest = read_json_file(manifest_path, f"The manifest {manifest_path}")
    files = manifest.get("files") if isinstance(manifest, dict) else None
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if (not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA or type(version) is not int
            or version != 1 or not isinstance(files, dict)
            or not all(isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values())):
        raise InvalidInputError(f"The manifest {manifest_path} is not a clvkit model-folder manifest (schema "
                                f"{MANIFEST_SCHEMA!r}, version 1). Re-run 'clvkit fit' to write the folder again.")
    unlisted = sorted(p.name for p in d.glob("*.json") if p.name != MANIFEST_FILE and p.name not in files)
    if unlisted:
        raise InvalidInputError(f"{where} holds {unlisted[0]}, which its {MANIFEST_FILE} does not list (a file from "
                                f"another run?). Remove it or re-run 'clvkit fit'.")
    docs: dict[str, Any] = {}
    for name, entry in sorted(files.items()):
        path = d / name
        if Path(name).name != name or not path.is_file():
            raise InvalidInputError(f"{where} lacks {name}, which its {MANIFEST_FILE} lists. Re-run 'clvkit fit'.")
        if sha256_of(path) != entry["sha256"]:
            raise InvalidInputError(f"The file {path} does not match the folder's {MANIFEST_FILE} (changed after "
                                    f"'clvkit fit' wrote it, or copied from another run). Re-run 'clvkit fit'.")
        docs[name] = read_json_file(path, f"The file {path}")[1] if name.endswith(".json") else None
    return docs


def load_design(model_dir: str | None, name: str = DESIGN_FILE) -> Any:
    """The :class:`clvkit.CovariateDesign` a model folder holds as ``name`` (``None``: none, or no folder), checked.

    ``name`` is :data:`DESIGN_FILE` (static covariates) or :data:`DYNAMIC_DESIGN_FILE` (time-varying ones).

    Raises
    ------
    InvalidInputError
        For a folder that does not match its manifest, or a design file clvkit cannot read.
    """
    from .covariates import CovariateDesign

    if model_dir is None:
        return None
    d = Path(model_dir)
    if name not in _checked_folder(d):
        return None
    path = d / name
    text, _ = read_json_file(path, f"The file {path}")
    try:
        design = CovariateDesign.from_json(text)
    except (InvalidInputError, ValueError) as exc:
        raise InvalidInputError(f"The file {path} is not a clvkit covariate design: {one_line(exc)}. "
                                f"Re-run 'clvkit fit'.") from None
    kind = "dynamic" if name == DYNAMIC_DESIGN_FILE else "static"
    if design.kind != kind:
        raise InvalidInputError(f"The file {path} holds the design of {design.kind} covariates, not of {kind} ones. "
                                f"Re-run 'clvkit fit'.")
    return design


def load_models(model_dir: str | None, model_files: Sequence[str] | None
                ) -> tuple[Any, Any | None, SummarySettings | None]:
    """The transaction model, the spend model (or None) and the saved summary settings (or None).

    A model folder must carry the ``manifest.json`` that ``clvkit fit`` writes, and every file must match it;
    the settings and models are parsed strictly. Every failure is an :class:`InvalidInputError` naming the file.
    """
    from .valuation import SpendModel, TransactionModel

    files: list[Path] = [Path(f) for f in (model_files or [])]
    settings: SummarySettings | None = None
    if model_dir is not None:
        d = Path(model_dir)
        if not d.is_dir():
            raise InvalidInputError(f"The model directory {d} does not exist; write one with 'clvkit fit'.")
        for name, doc in _checked_folder(d).items():
            path = d / name
            if not name.endswith(".json"):
                continue
            schema = doc.get("schema") if isinstance(doc, dict) else None
            if name in (DESIGN_FILE, DYNAMIC_DESIGN_FILE):
                continue  # read by load_design()
            if name == SELECTION_FILE and schema == SELECTION_SCHEMA:
                continue  # the record of 'fit --model auto', for people
            if name == SETTINGS_FILE or schema == SETTINGS_SCHEMA:
                settings = SummarySettings.from_document(doc, path)
            elif schema == _MODEL_SCHEMA:
                files.append(path)
            else:
                raise InvalidInputError(f"The file {path} is neither a clvkit model (schema {_MODEL_SCHEMA!r}) nor the "
                                        f"summary settings. Re-run 'clvkit fit'.")
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
