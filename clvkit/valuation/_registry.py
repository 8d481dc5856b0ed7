"""The model registry: the short names of the count models that model selection fits (``recommend()``,
``compare()`` with names, ``clvkit fit --model``), each with the factory of its engine.

The registry knows no model: each model is entered by :mod:`clvkit.valuation.models` (one list, in
``models/registry.py``), the way fitted classes register with :mod:`clvkit.persistence`. So the model
checks in :mod:`clvkit.valuation.checking`, which use the models only through the protocols, can fit models
by name without importing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..batch import CustomerSummary
from ..errors import InvalidInputError

__all__ = ["MODELS", "ModelEntry", "model_entries", "register_model", "resolve_models"]

#: Says why a model does not apply to a summary (``None``: it applies).
Applicability = Callable[[CustomerSummary], "str | None"]


@dataclass(frozen=True)
class ModelEntry:
    """One registered model: its short name, a printable label, the engine factory and when it applies."""

    name: str
    label: str
    factory: Callable[[], Any]
    applies: Applicability | None = None

    def reason_not_applicable(self, summary: CustomerSummary) -> str | None:
        """Why the model does not apply to ``summary`` (``None``: it does)."""
        return None if self.applies is None else self.applies(summary)


_ENTRIES: dict[str, ModelEntry] = {}
_FACTORIES: dict[str, Callable[[], Any]] = {}


class _Registry(Mapping[str, Callable[[], Any]]):
    """A read-only view of the registered factories; one object, hashed and compared by identity (a registry, not
    a value: ``{*clvkit.valuation.__all__}``-style sets of the exports keep working)."""

    __hash__ = object.__hash__
    __eq__ = object.__eq__

    def __getitem__(self, name: str) -> Callable[[], Any]:
        return _FACTORIES[name]

    def __iter__(self) -> Iterator[str]:
        return iter(_FACTORIES)

    def __len__(self) -> int:
        return len(_FACTORIES)

    def __repr__(self) -> str:
        return f"MODELS({', '.join(_FACTORIES)})"


#: Short name -> engine factory (``MODELS["pnbd"]()`` is a ``ParetoNBD()`` engine), in the order models are
#: tried and listed. Read-only; a model enters it through :func:`register_model`. The names are those of
#: ``clvkit fit --model``: ``"bgnbd"``, ``"mbgnbd"``, ``"pnbd"``, ``"bgbb"``.
MODELS: Mapping[str, Callable[[], Any]] = _Registry()


def register_model(name: str, factory: Callable[[], Any], *, label: str,
                   applies: Applicability | None = None) -> None:
    """Enter a count model under ``name`` (lower-case letters and digits).

    Parameters
    ----------
    name:
        The short name (``"pnbd"``), as ``recommend(models=[...])`` and ``clvkit fit --model`` take it.
    factory:
        Called without arguments, returns a new engine (an object whose ``fit(summary)`` returns a fitted count
        model), e.g. the engine class itself.
    label:
        How reports name the model (``"Pareto/NBD"``).
    applies:
        Optional ``applies(summary)``: ``None`` when the model can be fitted on ``summary``, else a sentence
        saying why not (BG/BB needs whole numbers of opportunities). Models that do not apply are left out of
        the default list.

    Raises
    ------
    InvalidInputError
        For a name that is not lower-case letters and digits, or a factory that is not callable.
    """
    if not (isinstance(name, str) and name.isascii() and name.isalnum() and name == name.lower()):
        raise InvalidInputError(f"A model name must be lower-case letters and digits (e.g. 'pnbd'). Got {name!r}.")
    if not callable(factory):
        raise InvalidInputError(f"The factory of model {name!r} must be callable (an engine class). Got {factory!r}.")
    _ENTRIES[name] = ModelEntry(name=name, label=str(label), factory=factory, applies=applies)
    _FACTORIES[name] = factory


def model_entries() -> tuple[ModelEntry, ...]:
    """Every registered model, in registry order."""
    return tuple(_ENTRIES.values())


def resolve_models(models: Sequence[str] | None, summary: CustomerSummary, where: str
                   ) -> tuple[tuple[ModelEntry, ...], tuple[tuple[ModelEntry, str], ...]]:
    """The entries to fit, and those of the default list left out (with the reason), for ``models``.

    ``None`` means every registered model that applies to ``summary``; names are fitted in the order given and
    must each apply (else a typed error says why).

    Raises
    ------
    InvalidInputError
        For ``models`` that is not a sequence of names, is empty, names an unknown model or one twice, or names a
        model that does not apply to ``summary``; or when no registered model applies.
    """
    if models is None:
        chosen: list[ModelEntry] = []
        skipped: list[tuple[ModelEntry, str]] = []
        for entry in _ENTRIES.values():
            reason = entry.reason_not_applicable(summary)
            (chosen.append(entry) if reason is None else skipped.append((entry, reason)))
        if not chosen:
            raise InvalidInputError(f"{where}: none of the registered models {list(_ENTRIES)} applies to this summary.")
        return tuple(chosen), tuple(skipped)
    if isinstance(models, (str, bytes)) or not isinstance(models, Sequence) or len(models) == 0:
        raise InvalidInputError(f"The 'models' parameter of {where} must be None (every model that applies) or a "
                                f"non-empty list of model names from {list(_ENTRIES)}. Got {models!r} instead.")
    entries: list[ModelEntry] = []
    for name in models:
        if not isinstance(name, str) or name not in _ENTRIES:
            raise InvalidInputError(f"The 'models' parameter of {where} names an unknown model {name!r}; the known "
                                    f"models are {list(_ENTRIES)} (clvkit.valuation.MODELS).")
        entry = _ENTRIES[name]
        if entry in entries:
            raise InvalidInputError(f"The 'models' parameter of {where} names {name!r} twice. Name each model once.")
        reason = entry.reason_not_applicable(summary)
        if reason is not None:
            raise InvalidInputError(f"{where}: the model {name!r} ({entry.label}) does not apply to this summary: "
                                    f"{reason} Leave it out of 'models'.")
        entries.append(entry)
    return tuple(entries), ()


def model_label(name: str) -> str:
    """The printable label of a registered model (the name itself for an unknown one)."""
    entry = _ENTRIES.get(name)
    return name if entry is None else entry.label
