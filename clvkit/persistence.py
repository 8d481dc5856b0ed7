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
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from ._version import __version__
from .errors import InvalidInputError

if TYPE_CHECKING:  # for the annotation only: persistence imports nothing of the valuation package
    from .valuation.models._base import FittedModel

__all__ = [
    "BUILTIN_MODELS",
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


def _model_class(model: Any) -> type[Loadable]:
    if isinstance(model, str) and model not in _REGISTRY and model in BUILTIN_MODELS:
        importlib.import_module(BUILTIN_MODELS[model])  # defining the class registers it
    if not isinstance(model, str) or model not in _REGISTRY:
        raise InvalidInputError(f"load_json(): unknown model {model!r}; known models are {list(registered_models())}.")
    return _REGISTRY[model]


def load_json(text: str | bytes) -> FittedModel:
    """Restore a fitted model written by ``fitted.to_json()``.

    Raises
    ------
    InvalidInputError
        If the text is not JSON, is not a clvkit model document, has a newer schema version than this
        clvkit reads, names an unknown model, or has invalid fields.

    Examples
    --------
    >>> from clvkit.valuation import FittedBetaGeo, BetaGeoParams
    >>> m = FittedBetaGeo(params=BetaGeoParams(r=0.24, alpha=4.41, a=0.79, b=2.43), time_unit="W")
    >>> load_json(m.to_json()) == m
    True
    """
    try:
        document: Any = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"load_json() needs the JSON text written by to_json(); it is not JSON ({exc})."
        ) from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise InvalidInputError(
            f"load_json() needs a document with \"schema\": \"{SCHEMA}\"; this one has "
            f"{document.get('schema') if isinstance(document, dict) else type(document).__name__!r}."
        )
    version = document.get("schema_version")
    if not isinstance(version, int) or version < 1 or version > SCHEMA_VERSION:
        raise InvalidInputError(
            f"load_json() reads schema versions 1..{SCHEMA_VERSION}; this document has {version!r}. "
            f"Upgrade clvkit to read it."
        )
    model = document.get("model")
    cls = _model_class(model)
    body = {k: v for k, v in document.items() if k not in ("schema", "schema_version", "model", "clvkit_version")}
    from pydantic import ValidationError

    try:
        return cast("FittedModel", cls.model_validate(body))
    except (ValidationError, InvalidInputError) as exc:  # clvkit's models raise InvalidInputError themselves
        raise InvalidInputError(f"load_json(): the {model} document is invalid: {exc}") from None
