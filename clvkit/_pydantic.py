"""The base of every clvkit Pydantic model outside the domain: frozen, closed, errors as :class:`InvalidInputError`.

Pydantic reports bad input as ``pydantic.ValidationError``. clvkit promises one error type for bad input, so
:class:`FrozenModel` converts every validation failure - on construction, ``model_validate``,
``model_validate_json`` and ``model_validate_strings`` - into :class:`~clvkit.errors.InvalidInputError`
whose problems name the field by its dotted path (``"params.r"``), say what is wrong, show what was given
and, where it helps, what to do. A check that raises :class:`InvalidInputError` itself inside a validator
(Pydantic wraps it) is unwrapped, so its field names and message survive.

The conversion happens in ``__init__`` and the ``model_validate*`` class methods rather than in a
``model_validator(mode="wrap")``: an error raised inside validation is wrapped by Pydantic again (every
``ValueError`` is), so only code outside validation can change the type that reaches the caller.

The domain entities (:mod:`clvkit.domain`) keep ``ValidationError``: the import contract keeps the domain
free of clvkit's own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import MAX_VALUE_SHOWN, InvalidInputError, Problem, describe_json

__all__ = ["FrozenModel", "validation_error"]

_M = TypeVar("_M", bound="FrozenModel")


def _describe_python(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not hide the validation error
        return f"<{type(value).__name__}>"
    return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 3] + "..."


def _bound(ctx: dict[str, Any], key: str) -> str:
    return str(ctx.get(key))


# What each common Pydantic error type means, in clvkit's words, and what to do about it.
def _explain(err: Any, fields: Sequence[str]) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "greater_than":
        return f"must be > {_bound(ctx, 'gt')}", f"Pass a number greater than {_bound(ctx, 'gt')}."
    if kind == "greater_than_equal":
        return f"must be >= {_bound(ctx, 'ge')}", f"Pass a number of at least {_bound(ctx, 'ge')}."
    if kind == "less_than":
        return f"must be < {_bound(ctx, 'lt')}", f"Pass a number below {_bound(ctx, 'lt')}."
    if kind == "less_than_equal":
        return f"must be <= {_bound(ctx, 'le')}", f"Pass a number of at most {_bound(ctx, 'le')}."
    if kind == "finite_number":
        return "must be a finite number (not NaN or infinite)", "Pass a finite number."
    if kind in ("float_type", "float_parsing"):
        return "must be a number", "Pass a number (not a string or a boolean)."
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number", "Pass an integer (not a string, a boolean or a fraction)."
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false", "Pass a boolean."
    if kind == "string_type":
        return "must be a string", "Pass a string."
    if kind == "missing":
        return "is required", "Pass it."
    if kind == "extra_forbidden":
        known = f" The fields are {list(fields)}." if fields else ""
        return "is not a known field", f"Remove it or correct its spelling.{known}"
    return str(err["msg"]).removeprefix("Value error, "), ""


def _default_path(loc: Sequence[int | str]) -> str:
    return ".".join(str(p) for p in loc)


def validation_error(exc: ValidationError, owner: str, *, context: str = "",
                     path: Callable[[Sequence[int | str]], str] = _default_path,
                     describe: Callable[[Any], str] = _describe_python,
                     fields: Sequence[str] = ()) -> InvalidInputError:
    """One :class:`InvalidInputError` listing every problem of a Pydantic ``ValidationError``.

    Parameters
    ----------
    exc:
        The Pydantic error.
    owner:
        The class validated, for the message head (``"BetaGeoParams has 1 problem: ..."``).
    context:
        Replaces ``owner`` in the message head when given.
    path:
        Turns an error location into the field path shown (default: dotted).
    describe:
        Renders an offending input (default: ``repr``; :func:`describe_json` for JSON documents).
    fields:
        The owner's field names, listed when an unknown field is given.
    """
    problems: list[Problem] = []
    for err in exc.errors():
        loc = path(err["loc"])
        inner = (err.get("ctx") or {}).get("error")
        if isinstance(inner, InvalidInputError) and inner.problems:
            for p in inner.problems:
                column = f"{loc}.{p.column}" if loc else p.column
                problems.append(Problem(column, p.message, p.rows, p.n_bad, p.fix))
            continue
        if isinstance(inner, InvalidInputError):
            problems.append(Problem(loc or owner, str(inner)))
            continue
        message, fix = _explain(err, fields if len(err["loc"]) == 1 else ())
        if err["loc"] and err["type"] not in ("missing", "extra_forbidden"):  # not for a whole-object check
            message += f"; got {describe(err['input'])}"
        problems.append(Problem(loc or owner, message, fix=fix))
    return InvalidInputError(problems, context=context or owner)


class FrozenModel(BaseModel):
    """Frozen Pydantic model that refuses unknown fields and raises :class:`InvalidInputError` for bad input.

    Python construction and ``model_validate`` coerce as Pydantic does (an int or a numpy float for a float
    field); ``model_validate_json`` is strict by default (no booleans or strings for numbers).
    Subclasses may set ``_error_context`` (``"{name} configuration"``) for the message head and override
    :meth:`_error_path` to shape field paths.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The head of error messages; ``{name}`` is the class name.
    _error_context: ClassVar[str] = "{name}"

    if not TYPE_CHECKING:  # type checkers keep the signature Pydantic's plugin derives from the fields

        def __init__(self, /, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise type(self)._converted(exc) from None

        # Pydantic routes validation through a model's __init__ when it is overridden ("custom init"), which
        # would drop a caller's ``strict=True`` (load_json's) on the way; this one only converts errors, so it
        # is marked as Pydantic marks its own: validation (nested models included) goes straight to the core.
        __init__.__pydantic_base_init__ = True

    @classmethod
    def _error_path(cls, loc: Sequence[int | str]) -> str:
        return _default_path(loc)

    @classmethod
    def _converted(cls, exc: ValidationError, describe: Callable[[Any], str] = _describe_python) -> InvalidInputError:
        return validation_error(exc, cls.__name__, context=cls._error_context.format(name=cls.__name__),
                                path=cls._error_path, describe=describe, fields=tuple(cls.model_fields))

    @classmethod
    def model_validate(cls: type[_M], obj: Any, *args: Any, **kwargs: Any) -> _M:
        """Validate a mapping (or instance); errors are :class:`InvalidInputError`."""
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise cls._converted(exc) from None

    @classmethod
    def model_validate_json(cls: type[_M], json_data: Any, *args: Any, **kwargs: Any) -> _M:
        """Validate a JSON document, strictly by default; errors are :class:`InvalidInputError` (inputs as JSON).

        Strict unless ``strict=False`` is passed: a number field takes a JSON number (an integer is fine for a
        float), never ``true`` or ``"0.5"``; a whole-number field takes an integer. A document is data from
        outside, and a configuration file that says ``"share": "0.2"`` or ``true`` is more likely a mistake
        than an intention.
        """
        kwargs.setdefault("strict", True)
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise cls._converted(exc, describe_json) from None

    @classmethod
    def model_validate_strings(cls: type[_M], obj: Any, *args: Any, **kwargs: Any) -> _M:
        """Validate a mapping of strings; errors are :class:`InvalidInputError`."""
        try:
            return super().model_validate_strings(obj, *args, **kwargs)
        except ValidationError as exc:
            raise cls._converted(exc) from None
