"""What the commands write and read besides logs: output checks, bounded JSON files, atomic model folders.

- :func:`check_outputs` runs before any work: an output may not be (or resolve to) an input, and an existing
  output is replaced only with ``--force``.
- :func:`read_json_file` and :func:`json_option` read JSON with a size and a nesting limit, as UTF-8, with
  every failure an :class:`~clvkit.errors.InvalidInputError` naming the file (never ``RecursionError``,
  ``UnicodeDecodeError`` or an ``OSError`` about an absurd file name).
- :func:`write_folder_atomically` writes a model folder as a whole or not at all: into a temporary sibling
  folder, with a ``manifest.json`` naming every file and its SHA-256, then renamed into place (an old folder is
  swapped out and removed only after the new one is in place).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .._csvio import atomic_output
from .._model_folder import (
    MANIFEST_FILE,
    MANIFEST_SCHEMA,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    _depth,
    parse_json_text,
    read_json_file,
    read_json_text,
    sha256_of,
)
from .._version import __version__
from ..errors import InvalidInputError

__all__ = ["MANIFEST_FILE", "MANIFEST_SCHEMA", "MAX_JSON_BYTES", "MAX_JSON_DEPTH", "check_outputs", "json_option",
           "parse_json_text", "read_json_file", "read_json_text", "sha256_of", "write_folder_atomically"]



# ------------------------------------------------------------------------------------------ outputs
def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except (OSError, RuntimeError):  # a symlink loop: treat as different, the write will report it
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def check_outputs(outputs: Iterable[Path], inputs: Iterable[Path], *, force: bool, folder: bool = False,
                  known: Iterable[str] = ()) -> None:
    """Refuse, before any work, an output that would destroy an input or an earlier output.

    An output may not be (or resolve to) an input, nor - for a ``folder`` - hold one; an existing output is
    replaced only with ``force`` (an empty folder holds nothing to lose); and a folder is replaced only when it
    holds nothing but files clvkit writes (``known``, or those its manifest lists), as ``--force`` replaces the
    folder as a whole.

    Raises
    ------
    InvalidInputError
        Naming the output and the input, or the existing output and ``--force``.
    """
    inputs = [Path(p) for p in inputs]
    for out in outputs:
        for source in inputs:
            if _same_file(out, source) or (folder and _inside(source, out)):
                raise InvalidInputError(
                    f"The output {out} is the input {source}{' or holds it' if folder else ''}; writing it would "
                    f"destroy the input. Choose another --output.")
        if not (out.exists() or out.is_symlink()):
            continue
        if folder and not out.is_dir():
            raise InvalidInputError(f"The output {out} is a file, not a folder. Choose a folder for --output.")
        if folder and not any(out.iterdir()):
            continue
        if not force:
            kind = "folder" if out.is_dir() else "file"
            raise InvalidInputError(f"The output {kind} {out} already exists. Pass --force to replace it, or choose "
                                    f"another --output.")
        if folder:
            _replaceable(out, known)


def json_option(value: str, option: str) -> tuple[str, Path | None]:
    """An option that takes JSON text or a JSON file: the text, and the file (``None`` for inline text).

    A value starting with ``{`` or ``[`` is JSON text; anything else is a file name. The choice is made on
    the text alone, so a long JSON value never reaches the operating system as a file name ("File name too
    long").
    """
    if value.lstrip().startswith(("{", "[")):
        if len(value) > MAX_JSON_BYTES:
            raise InvalidInputError(f"The {option} JSON is larger than {MAX_JSON_BYTES // 2**20} MiB.")
        if _depth(value) > MAX_JSON_DEPTH:
            raise InvalidInputError(f"The {option} JSON nests arrays/objects deeper than {MAX_JSON_DEPTH} levels.")
        return value, None
    path = Path(value)
    text = read_json_text(path, f"The {option} file {path}")
    if _depth(text) > MAX_JSON_DEPTH:
        raise InvalidInputError(f"The {option} file {path} nests arrays/objects deeper than {MAX_JSON_DEPTH} "
                                f"levels.")
    return text, path


# ------------------------------------------------------------------------------------------ model folders
def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replaceable(directory: Path, known: Iterable[str]) -> None:
    """Refuse to replace a folder that holds files clvkit did not write (``--force`` replaces the whole folder)."""
    allowed = set(known) | {MANIFEST_FILE}
    manifest = directory / MANIFEST_FILE
    if manifest.is_file():
        with contextlib.suppress(InvalidInputError, AttributeError, TypeError):
            _, doc = read_json_file(manifest)
            allowed |= set(doc.get("files", {}))
    foreign = sorted(p.name for p in directory.iterdir() if p.name not in allowed)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" and more" if len(foreign) > 5 else "")
        raise InvalidInputError(
            f"The output folder {directory} holds files clvkit did not write ({shown}); --force replaces a whole "
            f"folder, so it only replaces one written by clvkit. Choose a new or empty folder for --output.")


def write_folder_atomically(directory: Path, files: Mapping[str, Callable[[Path], None]], *,
                            known: Iterable[str] = ()) -> list[Path]:
    """Write ``files`` (name -> writer of that path) and a manifest as the folder ``directory``, all or nothing.

    The files go to a temporary sibling folder; the manifest names each with its size and SHA-256; then the
    folder is renamed into place. An existing folder (checked by :func:`check_outputs` first) must hold only
    files clvkit writes (``known`` or those of its manifest); it is renamed aside, the new one renamed in, and
    the old one removed. After any failure the temporary folder is removed and the old folder is intact.

    Returns the paths written, the manifest last.
    """
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError(f"The output {directory} is a file, not a folder. Choose a folder for --output.")
    if directory.is_dir():
        _replaceable(directory, known)
    parent = directory.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = parent / f".{directory.name}.{secrets.token_hex(4)}.tmp"
    try:
        staging.mkdir()
    except OSError as exc:  # e.g. permission denied: name the folder asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(directory)) from exc
    old: Path | None = None
    try:
        entries: dict[str, dict[str, Any]] = {}
        for name, write in files.items():
            write(staging / name)
            entries[name] = {"sha256": sha256_of(staging / name), "bytes": (staging / name).stat().st_size}
        manifest = {"schema": MANIFEST_SCHEMA, "schema_version": 1, "clvkit_version": __version__, "files": entries}
        with atomic_output(staging / MANIFEST_FILE) as fh:
            fh.write((json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
        _fsync_directory(staging)
        if directory.is_dir() and any(directory.iterdir()):
            old = parent / f".{directory.name}.{secrets.token_hex(4)}.old"
            os.rename(directory, old)
        elif directory.is_dir():
            directory.rmdir()
        try:
            os.rename(staging, directory)
        except BaseException:
            if old is not None:
                os.rename(old, directory)
                old = None
            raise
        _fsync_directory(parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return [directory / name for name in files] + [directory / MANIFEST_FILE]
