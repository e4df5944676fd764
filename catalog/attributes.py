"""Attribute templates of leaf classes and the checking of a material's attribute values against them.

A template lists typed attributes (number, enum, text, boolean, range). Numbers are Decimal, never float:
a float such as 0.1 is already rounded before we see it, and attribute values feed duplicate detection
and price comparison. A number may arrive in another unit of the same dimension
(``{"value": "3", "unit": "INH"}``) and is converted exactly to the template's unit.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog.errors import IncompatibleUnits, InexactConversion, UnknownUnit
from catalog.units import convert, units

AttributeValue = Decimal | str | bool | dict[str, Decimal]


class AttributeType(StrEnum):
    NUMBER = "number"
    ENUM = "enum"
    TEXT = "text"
    BOOLEAN = "boolean"
    RANGE = "range"


class AttributeSpec(BaseModel):
    """One attribute of a class template, e.g. thread size of hex bolts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    type: AttributeType
    unit: str | None = None
    required: bool = False
    allowed: tuple[str, ...] | None = None
    allowed_zh: dict[str, str] | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        measured = self.type in (AttributeType.NUMBER, AttributeType.RANGE)
        if self.unit is not None:
            if not measured:
                raise ValueError(f"{self.key}: only number and range attributes have a unit")
            if self.unit not in units():
                raise ValueError(f"{self.key}: unknown unit {self.unit!r}")
        if (self.min is not None or self.max is not None) and not measured:
            raise ValueError(f"{self.key}: min/max only apply to number and range attributes")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.key}: min {self.min} is above max {self.max}")
        if (self.type is AttributeType.ENUM) != bool(self.allowed):
            raise ValueError(f"{self.key}: enum attributes, and only they, need allowed values")
        if self.allowed is not None and len(set(self.allowed)) != len(self.allowed):
            raise ValueError(f"{self.key}: allowed values repeat")
        if self.allowed_zh and not set(self.allowed_zh) <= set(self.allowed or ()):
            raise ValueError(f"{self.key}: allowed_zh labels values that are not allowed")
        return self


class AttributeTemplate(BaseModel):
    """The ordered attributes of one leaf class; keys are unique."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attributes: tuple[AttributeSpec, ...] = ()

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        keys = [spec.key for spec in self.attributes]
        if len(set(keys)) != len(keys):
            raise ValueError(f"attribute keys repeat: {sorted({k for k in keys if keys.count(k) > 1})}")
        return self

    def spec(self, key: str) -> AttributeSpec | None:
        """The attribute with this key, if the template has it."""
        return next((spec for spec in self.attributes if spec.key == key), None)


class AttributeProblemCode(StrEnum):
    UNKNOWN_ATTRIBUTE = "unknown_attribute"
    MISSING_REQUIRED = "missing_required"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_VALUE = "unknown_value"
    OUT_OF_RANGE = "out_of_range"
    INVALID_RANGE = "invalid_range"
    UNIT_MISMATCH = "unit_mismatch"


@dataclass(frozen=True, slots=True)
class AttributeProblem:
    """What is wrong with one attribute value, named by attribute key."""

    key: str
    code: AttributeProblemCode
    message: str

    def as_error(self) -> dict[str, str]:
        """The entry for a problem+json ``errors`` list."""
        return {"pointer": f"/attributes/{self.key}", "code": self.code.value, "detail": self.message}


@dataclass(slots=True)
class AttributeCheck:
    """Checked values (numbers converted to the template unit) and the problems found."""

    values: dict[str, AttributeValue] = field(default_factory=dict)
    problems: list[AttributeProblem] = field(default_factory=list)


_Code = AttributeProblemCode


class _Reject(Exception):
    """Internal: one value failed; carries the problem code and message."""

    def __init__(self, code: AttributeProblemCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _decimal(raw: object, key: str) -> Decimal:
    if isinstance(raw, (bool, float)):
        raise _Reject(_Code.WRONG_TYPE, f"{key}: give a decimal number (Decimal or text), not {raw!r}")
    try:
        number = Decimal(raw) if isinstance(raw, (Decimal, int, str)) else None
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise _Reject(_Code.WRONG_TYPE, f"{key}: {raw!r} is not a decimal number")
    return number


def _in_template_unit(number: Decimal, unit: object, spec: AttributeSpec) -> Decimal:
    if unit is None or unit == spec.unit:
        return number
    if spec.unit is None or not isinstance(unit, str):
        raise _Reject(_Code.UNIT_MISMATCH, f"{spec.key}: takes no unit, got {unit!r}")
    try:
        return convert(number, unit, spec.unit)
    except (UnknownUnit, IncompatibleUnits, InexactConversion) as exc:
        raise _Reject(_Code.UNIT_MISMATCH, f"{spec.key}: {exc.message}") from exc


def _bounded(number: Decimal, spec: AttributeSpec) -> Decimal:
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.min is not None and number < spec.min:
        raise _Reject(_Code.OUT_OF_RANGE, f"{spec.key}: {number}{unit} is below {spec.min}{unit}")
    if spec.max is not None and number > spec.max:
        raise _Reject(_Code.OUT_OF_RANGE, f"{spec.key}: {number}{unit} is above {spec.max}{unit}")
    return number


def _number(raw: object, spec: AttributeSpec) -> Decimal:
    if isinstance(raw, Mapping):
        if set(raw) - {"value", "unit"} or "value" not in raw:
            raise _Reject(_Code.WRONG_TYPE, f"{spec.key}: expected {{value, unit}}")
        return _bounded(_in_template_unit(_decimal(raw["value"], spec.key), raw.get("unit"), spec), spec)
    return _bounded(_decimal(raw, spec.key), spec)


def _range(raw: object, spec: AttributeSpec) -> dict[str, Decimal]:
    if not isinstance(raw, Mapping) or {"min", "max"} - set(raw) or set(raw) - {"min", "max", "unit"}:
        raise _Reject(_Code.WRONG_TYPE, f"{spec.key}: expected a range {{min, max[, unit]}}")
    low, high = (
        _bounded(_in_template_unit(_decimal(raw[end], spec.key), raw.get("unit"), spec), spec)
        for end in ("min", "max")
    )
    if low > high:
        raise _Reject(_Code.INVALID_RANGE, f"{spec.key}: min {low} is above max {high}")
    return {"min": low, "max": high}


def _enum(raw: object, spec: AttributeSpec) -> str:
    allowed = spec.allowed or ()
    if not isinstance(raw, str):
        raise _Reject(_Code.WRONG_TYPE, f"{spec.key}: expected one of the listed values")
    if raw not in allowed:
        shown = ", ".join(allowed[:12]) + (" …" if len(allowed) > 12 else "")
        raise _Reject(_Code.UNKNOWN_VALUE, f"{spec.key}: {raw!r} is not one of {shown}")
    return raw


def _text(raw: object, spec: AttributeSpec) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _Reject(_Code.WRONG_TYPE, f"{spec.key}: expected non-empty text")
    if spec.max_length is not None and len(raw) > spec.max_length:
        raise _Reject(_Code.OUT_OF_RANGE, f"{spec.key}: longer than {spec.max_length} characters")
    return raw.strip()


def _boolean(raw: object, spec: AttributeSpec) -> bool:
    if not isinstance(raw, bool):
        raise _Reject(_Code.WRONG_TYPE, f"{spec.key}: expected true or false, got {raw!r}")
    return raw


_CHECKERS: dict[AttributeType, Callable[[Any, AttributeSpec], AttributeValue]] = {
    AttributeType.NUMBER: _number,
    AttributeType.RANGE: _range,
    AttributeType.ENUM: _enum,
    AttributeType.TEXT: _text,
    AttributeType.BOOLEAN: _boolean,
}


def check_attributes(template: AttributeTemplate, values: Mapping[str, object]) -> AttributeCheck:
    """Check every value against the template; return the normalized values and all problems found."""
    result = AttributeCheck()
    unknown = [key for key in values if template.spec(key) is None]
    result.problems += [
        AttributeProblem(key, _Code.UNKNOWN_ATTRIBUTE, f"{key}: not in this class") for key in unknown
    ]
    for spec in template.attributes:
        if values.get(spec.key) is None:
            if spec.required:
                missing = AttributeProblem(spec.key, _Code.MISSING_REQUIRED, f"{spec.key}: is required")
                result.problems.append(missing)
            continue
        try:
            result.values[spec.key] = _CHECKERS[spec.type](values[spec.key], spec)
        except _Reject as rejected:
            result.problems.append(AttributeProblem(spec.key, rejected.code, rejected.message))
    return result


def validate_attributes(template: AttributeTemplate, values: Mapping[str, object]) -> list[AttributeProblem]:
    """The problems of a material's attribute values; empty when they fit the template."""
    return check_attributes(template, values).problems
