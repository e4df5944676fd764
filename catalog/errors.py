"""Catalogue errors: each is a 422 with a stable code, rendered as problem+json by the kit."""

from tradeloom.errors import Invalid


class UnknownUnit(Invalid):
    """A unit code that is not in the unit table (nor in the material's pack sizes)."""

    default_code = "catalog.unknown_unit"


class IncompatibleUnits(Invalid):
    """A conversion between different dimensions, e.g. kilograms to metres."""

    default_code = "catalog.incompatible_units"


class InexactConversion(Invalid):
    """The exact result has no finite decimal form (e.g. 1 FAH in CEL) and no rounding was asked for."""

    default_code = "catalog.inexact_conversion"


class InvalidQuantity(Invalid):
    """A quantity that is not a finite Decimal (floats are refused: 0.1 is not exact in binary)."""

    default_code = "catalog.invalid_quantity"


class InvalidMaterialCode(Invalid):
    """A class code or sequence that cannot form a material code."""

    default_code = "catalog.invalid_material_code"


class InvalidClassTree(Invalid):
    """The class tree data breaks an invariant (duplicate code, missing parent, cycle)."""

    default_code = "catalog.invalid_class_tree"
