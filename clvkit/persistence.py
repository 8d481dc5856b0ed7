"""Versioned JSON persistence of fitted models (never pickle): the document format, writer and reader.

A document is one JSON object: ``schema`` (:data:`SCHEMA`), ``schema_version`` (:data:`SCHEMA_VERSION`),
``model`` (the fitted model's ``model_name``), ``clvkit_version``, then the model's own fields
(``params``, ``time_unit``, ``fit_info``). :func:`write_document` writes it; :func:`load_json` reads it and
rebuilds the right class, validating every field.

Every fitted model class registers itself here (:func:`register`) when it is defined. clvkit's own models
are also named in :data:`BUILTIN_MODELS`, so that :func:`load_json` can import the one a document needs
on first use: this module imports nothing of the valuation package (``import clvkit`` stays light).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from ._version import __version__
from .errors import InvalidInputError, describe_json

if TYPE_CHECKING:  # for the annotation only: persistence imports nothing of the valuation package
    from .valuation.models._base import FittedModel

__all__ = [
    "BUILTIN_MODELS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_INTEGER",
    "SCHEMA",
    "SCHEMA_VERSION",
    "load_json",
    "register",
    "registered_models",
    "write_document",
]

SCHEMA = "clvkit.fitted_model"
SCHEMA_VERSION = 1

#: clvkit's fitted models by ``model_name``: the module that defines (and registers) each.
BUILTIN_MODELS: dict[str, str] = {
    "BetaGeo": "clvkit.valuation.models.beta_geo",
    "BetaGeoBetaBinom": "clvkit.valuation.models.beta_geo_beta_binom",
    "GammaGamma": "clvkit.valuation.models.gamma_gamma",
    "GammaGompertzNBD": "clvkit.valuation.models.gamma_gompertz_nbd",
    "ModifiedBetaGeo": "clvkit.valuation.models.modified_beta_geo",
    "ParetoNBD": "clvkit.valuation.models.pareto_nbd",
    "ShiftedBetaGeo": "clvkit.valuation.models.shifted_beta_geo",
}


class Loadable(Protocol):
    """What :func:`load_json` needs of a registered class (every fitted model is one)."""

    model_name: ClassVar[str]

    @classmethod
    def model_validate(cls, obj: Any) -> Any: ...


_REGISTRY: dict[str, type[Loadable]] = {}


def register(cls: type[Loadable]) -> type[Loadable]:
    """Make ``cls`` loadable by :func:`load_json` under ``cls.model_name``."""
    _REGISTRY[cls.model_name] = cls
    return cls


def registered_models() -> tuple[str, ...]:
    """Names of the model kinds :func:`load_json` can restore (clvkit's own and any registered since)."""
    return tuple(sorted(set(_REGISTRY) | set(BUILTIN_MODELS)))


def write_document(model_name: str, body: dict[str, Any], *, indent: int | None = 2) -> str:
    """The versioned JSON document of a model called ``model_name`` with fields ``body``.

    Floats are written in Python's shortest round-trip form, so :func:`load_json` restores them exactly;
    a non-finite number is refused (JSON has none).
    """
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "model": model_name,
        "clvkit_version": __version__,
        **body,
    }
    return json.dumps(document, indent=indent, allow_nan=False)


def _model_class(model: Any, where: str) -> type[Loadable]:
    if isinstance(model, str) and model not in _REGISTRY and model in BUILTIN_MODELS:
        importlib.import_module(BUILTIN_MODELS[model])  # defining the class registers it
    if not isinstance(model, str) or model not in _REGISTRY:
        raise InvalidInputError(
            f"{where}: 'model': unknown model {describe_json(model)}; known models are {list(registered_models())}."
        )
    return _REGISTRY[model]


#: Largest document :func:`load_json` reads, in bytes of UTF-8 (1 MiB; a model is a few kilobytes, the
#: covariance of 100 parameters about 250 KB).
MAX_DOCUMENT_BYTES = 1 << 20
#: Deepest nesting of arrays and objects :func:`load_json` reads (a model document nests 3 deep).
MAX_DEPTH = 32
#: Largest magnitude of a JSON integer :func:`load_json` accepts (the int64 range).
MAX_INTEGER = 2**63 - 1

# A JSON string (with its escapes) or one bracket: strings are skipped whole, so brackets inside them do not
# count towards the depth. The closing quote is optional so that an unterminated string is consumed to the
# end in one match (the decoder stops there anyway); a required quote would rescan the rest of the text from
# every escaped quote in it, quadratic time on text such as '"a\\"a\\"a\\"...'.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def _check_depth(text: str, where: str) -> None:
    # Counted before json.loads, whose decoder recurses once per level (RecursionError, or worse, at depth).
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidInputError(
                    f"{where}: the JSON nests arrays and objects more than {MAX_DEPTH} deep (at character "
                    f"{match.start()}); a clvkit model nests 3 deep. This is not a document written by to_json()."
                )
        elif token in "]}":
            depth -= 1
            if depth < 0:  # the decoder stops here: not JSON
                return


class _BigInteger:
    """An integer of more than 20 digits, kept as text (converting it costs time quadratic in its length)."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _integer(digits: str) -> int | _BigInteger:
    return int(digits) if len(digits) <= 20 else _BigInteger(digits)


class _NonFinite:
    """A ``NaN``/``Infinity`` token, kept to be reported with its field path."""

    def __init__(self, token: str) -> None:
        self.token = token


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r} in one object (which value is meant is ambiguous)")
    return dict(pairs)


def _check_numbers(value: Any, path: str, where: str) -> None:
    """Refuse non-finite numbers and integers beyond :data:`MAX_INTEGER`, naming the field."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_numbers(v, f"{path}.{k}" if path else k, where)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_numbers(v, f"{path}.{i}" if path else str(i), where)
    elif isinstance(value, _NonFinite) or (isinstance(value, float) and not math.isfinite(value)):
        shown = value.token if isinstance(value, _NonFinite) else "a number beyond the float range"
        raise InvalidInputError(
            f"{where}: '{path}': must be a finite number, got {shown}. JSON written by to_json() has none; "
            f"the document was edited or written by another program."
        )
    elif isinstance(value, _BigInteger):
        raise InvalidInputError(f"{where}: '{path}': the integer {value.digits[:20]}... ({len(value.digits)} "
                                f"digits) is beyond the int64 range.")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise InvalidInputError(f"{where}: '{path}': the integer {value} is beyond the int64 range.")


def _is_path_text(text: str) -> bool:
    """A ``str`` given to :func:`load_json` names a file unless it looks like a JSON document (or is blank)."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    return head not in ("{", "[", "") and "\n" not in text and len(text) <= 4096


def _read_document_file(path: str | os.PathLike[str], where: str) -> bytes:
    """The bytes of a model file (one more than :data:`MAX_DOCUMENT_BYTES` at most, so _parse refuses a big one)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInputError(f"{where}: no such file. Pass the path of a model file written by fitted.to_json() "
                                f"(or the JSON text itself, which starts with '{{').") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{where}: this is a folder, not a model file; name one of its .json files.") from None
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{where}: the file cannot be read ({exc.__class__.__name__}: {exc}).") from None


def _parse(text: Any, where: str) -> Any:
    """The document as Python objects: size, encoding, depth and numbers checked, duplicate keys refused."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        if len(text) > MAX_DOCUMENT_BYTES:
            raise InvalidInputError(
                f"{where}: the document has {len(text):,} bytes; load_json() reads at most {MAX_DOCUMENT_BYTES:,}."
            )
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(
                f"{where}: the document is not UTF-8 (byte {exc.start}); save it as UTF-8 JSON."
            ) from None
    elif isinstance(text, str):
        # A character is 1-4 bytes of UTF-8: a long text is refused on its length, only one near the limit is
        # encoded to count its bytes.
        n_bytes = len(text)
        if MAX_DOCUMENT_BYTES // 4 < n_bytes <= MAX_DOCUMENT_BYTES:
            n_bytes = len(text.encode("utf-8", "surrogatepass"))
        if n_bytes > MAX_DOCUMENT_BYTES:
            raise InvalidInputError(
                f"{where}: the document has {n_bytes:,} bytes; load_json() reads at most {MAX_DOCUMENT_BYTES:,}."
            )
        text = text.removeprefix("\ufeff")
    else:
        raise InvalidInputError(
            f"{where} needs the JSON text (str or bytes) written by to_json(). Got {type(text).__name__}."
        )
    _check_depth(text, where)
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_NonFinite,
                              parse_int=_integer)
    except (ValueError, RecursionError) as exc:  # RecursionError: only if the depth scan were wrong
        raise InvalidInputError(f"{where} needs the JSON text written by to_json(); it is not JSON ({exc}).") from None
    _check_numbers(document, "", where)
    return document


def _check_header(document: Any, where: str) -> None:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        got = describe_json(document.get("schema")) if isinstance(document, dict) else type(document).__name__
        raise InvalidInputError(
            f"{where}: 'schema': load_json() needs a document with \"schema\": \"{SCHEMA}\"; this one has {got}."
        )
    version = document.get("schema_version")
    if type(version) is not int or not 1 <= version <= SCHEMA_VERSION:
        hint = "Upgrade clvkit to read it." if type(version) is int and version > SCHEMA_VERSION else (
            "It must be a whole number written by to_json().")
        raise InvalidInputError(
            f"{where}: 'schema_version': load_json() reads schema versions 1..{SCHEMA_VERSION}; this document has "
            f"{describe_json(version)}. {hint}"
        )
    if "clvkit_version" in document and not isinstance(document["clvkit_version"], str):
        raise InvalidInputError(
            f"{where}: 'clvkit_version': must be a string, got {describe_json(document['clvkit_version'])}."
        )


def load_json(text: str | bytes | os.PathLike[str], *, source: str | None = None) -> FittedModel:
    """Restore a fitted model written by ``fitted.to_json()``, from its text or from a file.

    ``text`` is the JSON document (``str`` or ``bytes``) or the path of a file holding it (a
    :class:`pathlib.Path`, or a ``str`` that does not start with ``{``: a document always does).

    The document is read strictly and within bounds, so a damaged or hostile file is refused with a
    typed error before it can cost memory, recursion or a silently different model:

    - at most :data:`MAX_DOCUMENT_BYTES` bytes (1 MiB) of UTF-8 (a byte-order mark is allowed);
    - arrays and objects nested at most :data:`MAX_DEPTH` (32) deep, checked before the JSON is parsed;
    - no duplicate keys in an object;
    - numbers finite (no ``NaN``/``Infinity`` tokens, nothing that overflows to infinity), integers within
      the int64 range: a loaded model can always be written back by ``to_json()``;
    - strict types: a number field takes a JSON number (an integer is fine for a float), never ``true``/
      ``false`` or a string such as ``"0.5"``; a whole-number field takes an integer, not ``1016.0``;
    - ``schema`` is ``"clvkit.fitted_model"``, ``schema_version`` an integer this clvkit reads,
      ``model`` a registered model name, ``clvkit_version`` a string;
    - the model's own fields (``params``, ``time_unit``, ``fit_info``) as the model class validates them:
      parameters positive, finite and normal, no unknown or missing fields.

    Parameters
    ----------
    text:
        The JSON document, as ``str`` or UTF-8 ``bytes``, or the path of a JSON file (read as bytes, at most
        :data:`MAX_DOCUMENT_BYTES` of it).
    source:
        Where the text comes from (e.g. the file name), named in error messages; default the path for a file.

    Raises
    ------
    InvalidInputError
        For any of the above; the message names the source, the field by its path (``params.r``) and
        the value found, e.g. ``"params.r: must be a number; got true"``.

    Examples
    --------
    >>> from clvkit.valuation import FittedBetaGeo, BetaGeoParams
    >>> m = FittedBetaGeo(params=BetaGeoParams(r=0.24, alpha=4.41, a=0.79, b=2.43), time_unit="W")
    >>> load_json(m.to_json()) == m
    True

    A path works too (``Path`` or text):

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = pathlib.Path(d, "bg.json")
    ...     _ = path.write_text(m.to_json(), encoding="utf-8")
    ...     load_json(path) == m == load_json(str(path))
    True
    >>> load_json(m.to_json().replace("0.24", "true"), source="bg.json")
    Traceback (most recent call last):
    ...
    clvkit.errors.InvalidInputError: load_json() of bg.json: the BetaGeo document is invalid; it has 1 problem:
      - 'params.r': must be a number; got true. Pass a number (not a string or a boolean).
    """
    if isinstance(text, os.PathLike) or (isinstance(text, str) and _is_path_text(text)):
        source = source or os.fspath(text)
        text = _read_document_file(text, f"load_json() of {source}")
    where = f"load_json() of {source}" if source else "load_json()"
    document = _parse(text, where)
    _check_header(document, where)
    model = document.get("model")
    cls = _model_class(model, where)
    body = {k: v for k, v in document.items() if k not in ("schema", "schema_version", "model", "clvkit_version")}
    from pydantic import BaseModel, ValidationError

    from ._pydantic import validation_error

    try:
        # Strict: no bool-as-number or number-as-string; a JSON integer still fills a float field. The core
        # validator is called directly so that errors keep Pydantic's locations and show inputs as JSON.
        if isinstance(cls, type) and issubclass(cls, BaseModel):
            return cast("FittedModel", cls.__pydantic_validator__.validate_python(body, strict=True))
        return cast("FittedModel", cls.model_validate(body))
    except ValidationError as exc:
        fields = tuple(cls.model_fields) if isinstance(cls, type) and issubclass(cls, BaseModel) else ()
        raise validation_error(exc, model, context=f"{where}: the {model} document is invalid; it",
                               describe=describe_json, fields=fields) from None
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: the {model} document is invalid: {exc}") from None
