"""Versioned JSON persistence of fitted models (never pickle).

Every fitted model class registers itself here under its ``model_name`` when it is defined;
:func:`load_json` reads the document's ``schema``, ``schema_version`` and ``model`` and rebuilds the
right class, validating every field.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import InvalidInputError

if TYPE_CHECKING:
    from .valuation.models._base import FittedModel

__all__ = ["load_json", "register", "registered_models"]

_REGISTRY: dict[str, type[FittedModel]] = {}


def register(cls: type[FittedModel]) -> type[FittedModel]:
    """Make ``cls`` loadable by :func:`load_json` under ``cls.model_name``."""
    _REGISTRY[cls.model_name] = cls
    return cls


def registered_models() -> tuple[str, ...]:
    """Names of the model kinds :func:`load_json` can restore."""
    import clvkit.valuation  # noqa: F401 - importing it defines (and registers) the models

    return tuple(sorted(_REGISTRY))


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
    from .valuation.models._base import SCHEMA, SCHEMA_VERSION

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
    names = registered_models()
    model = document.get("model")
    if model not in _REGISTRY:
        raise InvalidInputError(f"load_json(): unknown model {model!r}; known models are {list(names)}.")
    body = {k: v for k, v in document.items() if k not in ("schema", "schema_version", "model", "clvkit_version")}
    from pydantic import ValidationError

    try:
        return _REGISTRY[model].model_validate(body)
    except ValidationError as exc:
        raise InvalidInputError(f"load_json(): the {model} document is invalid: {exc}") from None
