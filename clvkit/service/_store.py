"""The loaded models of a service and their atomic reload.

A :class:`ModelStore` reads its sources - model folders as ``clvkit fit`` writes them (checked against their
``manifest.json`` by :func:`clvkit._model_folder.load_models`, as ``clvkit score`` checks them), folders of such
folders, or single model files (read with :func:`clvkit.load_json`) - into one immutable :class:`Snapshot`. A
reload reads everything again into a new snapshot and then replaces the reference in one assignment; a request
takes the reference once and is scored by that snapshot alone, so it sees exactly one version of its model however
a reload runs beside it. A reload that fails (a folder half rewritten, a damaged file) keeps the old snapshot.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from ._problems import UnknownModelError

__all__ = ["Entry", "ModelStore", "ReloadStamp", "Snapshot", "sources_of"]

_MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    """One loaded model: a transaction model with its spend model (or a fixed spend) and its version."""

    name: str
    source: str
    version: str
    transaction: Any
    spend: Any | None
    fixed_spend: float | None
    settings: Any | None
    loaded_at: str

    @property
    def spend_or_amount(self) -> Any:
        """What :func:`clvkit.valuation.clv` takes as its spend: the spend model, else the fixed amount."""
        return self.spend if self.spend is not None else self.fixed_spend

    def describe(self) -> dict[str, Any]:
        """The entry as ``GET /models`` lists it."""
        from ..persistence import SCHEMA, SCHEMA_VERSION

        m = self.transaction
        return {"name": self.name, "model_version": self.version, "source": self.source,
                "transaction_model": self.transaction.model_name,
                "spend_model": None if self.spend is None else self.spend.model_name,
                "fixed_spend": self.fixed_spend, "time_unit": self.transaction.time_unit,
                "schema_name": SCHEMA, "schema_version": SCHEMA_VERSION,
                "params": dict(zip(m.param_names, m.param_array().tolist(), strict=True)),
                "loaded_at": self.loaded_at}


@dataclass(frozen=True)
class Snapshot:
    """The models loaded at one moment; never changed after it is built."""

    entries: Mapping[str, Entry]
    fingerprint: tuple[tuple[str, float, int], ...] = field(default=())

    @property
    def default(self) -> str | None:
        """The model used when a request names none: the only one loaded (``None`` when there are several)."""
        return next(iter(self.entries)) if len(self.entries) == 1 else None

    def get(self, name: str | None) -> Entry:
        """The entry called ``name`` (the default when ``None``).

        Raises
        ------
        UnknownModelError
            For a name not loaded (HTTP 404); :class:`InvalidInputError` when ``name`` is ``None`` and several
            models are loaded.
        """
        if name is None:
            if self.default is None:
                raise InvalidInputError(f"Several models are loaded ({sorted(self.entries)}): name one in 'model'.")
            return self.entries[self.default]
        entry = self.entries.get(name)
        if entry is None:
            raise UnknownModelError(f"No model named {name!r} is loaded; the service has {sorted(self.entries)} "
                                    f"(GET /models lists them).")
        return entry


def sources_of(models: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The paths given to :func:`~clvkit.service.create_app` as a list."""
    if isinstance(models, (str, os.PathLike)):
        return [Path(models)]
    return [Path(m) for m in models]


def _is_model_folder(path: Path) -> bool:
    return path.is_dir() and (path / _MANIFEST).is_file()


def _expand(sources: Sequence[Path]) -> list[Path]:
    """Every model folder or model file the sources name: a folder of model folders gives each of them."""
    found: list[Path] = []
    for src in sources:
        if src.is_file() or _is_model_folder(src):
            found.append(src)
        elif src.is_dir():
            inner = sorted(p for p in src.iterdir() if _is_model_folder(p))
            if not inner:
                raise InvalidInputError(f"The model folder {src} holds no {_MANIFEST} and no model folders; write "
                                        f"one with 'clvkit fit LOG ... --output {src}'.")
            found.extend(inner)
        else:
            raise InvalidInputError(f"The model path {src} does not exist; pass a folder written by 'clvkit fit', a "
                                    f"folder of such folders or a model JSON file.")
    return found


def _fingerprint(paths: Sequence[Path]) -> tuple[tuple[str, float, int], ...]:
    """Modification times and sizes of the files a reload would read (to notice a change cheaply)."""
    out: list[tuple[str, float, int]] = []
    for p in paths:
        files = sorted(p.iterdir()) if p.is_dir() else [p]
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            out.append((str(f), st.st_mtime, st.st_size))
    return tuple(out)


def _load_entry(path: Path, fixed_spend: float | None, now: str) -> Entry:
    from .. import load_json
    from .._model_folder import load_models
    from ..valuation import SpendModel, TransactionModel

    if path.is_dir():
        transaction, spend, settings = load_models(str(path), None)
        version = _sha256(path / _MANIFEST)
        name = path.name
    else:
        model = load_json(path)
        if not isinstance(model, TransactionModel):
            kind = "a spend model" if isinstance(model, SpendModel) else type(model).__name__
            raise InvalidInputError(f"The model file {path} holds {kind}, not a transaction model (e.g. BG/NBD); "
                                    f"serve a folder written by 'clvkit fit' to pair it with its spend model.")
        transaction, spend, settings = model, None, None
        version = _sha256(path)
        name = path.stem
    if spend is None and fixed_spend is None:
        raise InvalidInputError(f"The model {path} has no spend model: fit the folder with --monetary-value (which "
                                f"saves a Gamma-Gamma model) or give a fixed spend per purchase "
                                f"(create_app(spend=...), 'clvkit serve --spend AMOUNT').")
    return Entry(name=name, source=str(path), version=version, transaction=transaction, spend=spend,
                 fixed_spend=None if spend is not None else fixed_spend, settings=settings, loaded_at=now)


logger = logging.getLogger("clvkit.service")

_Stat = tuple[int, int, int] | None


class ReloadStamp:
    """A file shared by the processes that serve the same models, so that a reload in one reaches them all.

    A process that reloads on request :meth:`bump` s the stamp (a new file put in place by ``os.replace``: a new
    inode, time and content); the others see the change with one ``os.stat`` (about a microsecond) before their
    next request and reload the models themselves (:meth:`ModelStore.follow`). ``clvkit serve --workers N``
    makes one in a temporary folder for its workers.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def stat(self) -> _Stat:
        """The stamp's identity now (inode, time, size), ``None`` when there is none yet."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def bump(self) -> _Stat:
        """Put a new stamp in place (atomically) and return its identity."""
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        tmp.write_text(uuid.uuid4().hex + "\n", encoding="ascii")
        os.replace(tmp, self.path)
        return self.stat()


class ModelStore:
    """The models of a service, loaded from ``sources``; :meth:`reload` swaps them atomically.

    With a ``stamp`` shared with other processes, a :meth:`reload` is announced to them, and :meth:`follow`
    reloads here when another process announced one.
    """

    def __init__(self, sources: Sequence[Path], *, spend: float | None = None,
                 stamp: ReloadStamp | None = None) -> None:
        self._sources = list(sources)
        self._spend = spend
        self._lock = threading.Lock()  # one reload at a time; readers never wait
        self._stamp = stamp
        self._seen = stamp.stat() if stamp is not None else None
        self._snapshot = self._read()

    @property
    def current(self) -> Snapshot:
        """The snapshot to use for one request (take it once per request)."""
        return self._snapshot

    def _read(self) -> Snapshot:
        paths = _expand(self._sources)
        fingerprint = _fingerprint(paths)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        entries: dict[str, Entry] = {}
        for p in paths:
            entry = _load_entry(p, self._spend, now)
            if entry.name in entries:
                raise InvalidInputError(f"Two models are called {entry.name!r} ({entries[entry.name].source} and "
                                        f"{entry.source}); give the folders different names.")
            entries[entry.name] = entry
        if not entries:
            raise InvalidInputError("No models to serve; pass a folder written by 'clvkit fit'.")
        return Snapshot(entries, fingerprint)

    def reload(self, *, announce: bool = False) -> Snapshot:
        """Read the sources again and swap the snapshot; on any error the old one stays and the error is raised.

        With ``announce`` (a reload asked for over HTTP) the shared stamp is bumped after the swap, so the other
        processes serving these models reload before their next request.
        """
        with self._lock:
            new = self._read()
            self._snapshot = new
            if announce and self._stamp is not None:
                self._seen = self._stamp.bump()
            return new

    def stale(self) -> bool:
        """Whether another process announced a reload this one has not followed (one ``os.stat``)."""
        return self._stamp is not None and self._stamp.stat() != self._seen

    def follow(self) -> Snapshot:
        """Reload if another process announced a reload since the last one seen here; the current snapshot.

        A reload that fails here keeps the models in service (and is logged); the announcement counts as seen,
        so requests do not retry it one after another - the next announcement or file change tries again.
        """
        if self._stamp is None:
            return self._snapshot
        with self._lock:
            now = self._stamp.stat()
            if now != self._seen:  # not followed meanwhile by another request of this process
                try:
                    self._snapshot = self._read()
                except InvalidInputError as exc:
                    logger.warning("announced model reload failed; the previous models stay in service: %s", exc)
                else:
                    logger.info("models reloaded (announced by another worker)",
                                extra={"models": {k: e.version for k, e in self._snapshot.entries.items()}})
                # Seen only once the new snapshot is in place: until then stale() sends this process's other requests
                # here, to wait on the lock for it, rather than to the old snapshot (seen in a test under load).
                self._seen = now
            return self._snapshot

    def changed(self) -> bool:
        """Whether the files on disk differ (time or size) from those of the current snapshot."""
        try:
            paths = _expand(self._sources)
        except InvalidInputError:
            return False  # mid-rewrite; the next look sees the finished folder
        return _fingerprint(paths) != self._snapshot.fingerprint
