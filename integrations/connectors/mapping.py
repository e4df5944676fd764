"""Declarative field mappings: their record → our bulk record, written in YAML by an org admin.

A mapping names, per pull, which of their objects to read (``source``, profile-specific), which of their
fields is the external id, and how each of our fields is made::

    pulls:
      - kind: orders                     # one of our bulk kinds
        source: {service: API_PURCHASEORDER_PROCESS_SRV, entity: A_PurchaseOrder,
                 expand: to_PurchaseOrderItem}
        external_id: PurchaseOrder
        fields:
          currency: DocumentCurrency     # a path into their record ("a.b.0" reads lists too)
          delivery_site_code: {const: PLANT-1}
          lines:
            each: to_PurchaseOrderItem.results
            fields:
              unit: {from: PurchaseOrderQuantityUnit, map: {PC: H87, KG: KGM}}
              unit_price: {from: NetPriceAmount, currency_from: DocumentCurrency, to_currency: CNY}

Our field names may be dotted (``attributes.thread``) to fill a nested object. Field rules: ``from`` (a path),
``const``, ``default`` (when the value is missing, empty or Odoo's ``false``), ``map`` (their code → ours; an
unmapped code is an error), ``transform`` (a list of: strip, upper, lower, text, decimal, integer, date, sap_date,
odata_date, yyyymmdd), ``to_unit`` +
``unit_from`` (convert a quantity with the catalogue's unit table) and ``to_currency`` + ``currency_from``
(convert an amount with the platform's exchange rates). ``unit_from`` and ``currency_from`` are paths too,
read from the line first and then from the whole record; ``unit_map`` turns their unit names into catalogue
unit codes for the conversion.
"""

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.units import convert
from integrations.bulk.records import BulkKind
from tradeloom.errors import Invalid, TradeloomError

Transform = Literal["strip", "upper", "lower", "text", "decimal", "integer", "date", "sap_date", "odata_date",
                    "yyyymmdd"]
MONEY_PLACES = Decimal("0.0001")
_SAP_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d+)?\)/$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Spec):
    """How one of our fields is made from their record."""

    from_: str | None = Field(default=None, alias="from")
    const: Any = None
    default: Any = None
    map: dict[str, Any] | None = None
    transform: list[Transform] = Field(default_factory=list)
    unit_from: str | None = None
    unit_map: dict[str, str] = Field(default_factory=dict)
    to_unit: str | None = None
    currency_from: str | None = None
    to_currency: str | None = Field(default=None, min_length=3, max_length=3)

    @model_validator(mode="after")
    def _one_source(self) -> "FieldRule":
        if (self.from_ is None) == (self.const is None):
            raise ValueError("give exactly one of 'from' and 'const'")
        if (self.unit_from is None) != (self.to_unit is None):
            raise ValueError("'unit_from' and 'to_unit' go together")
        if (self.currency_from is None) != (self.to_currency is None):
            raise ValueError("'currency_from' and 'to_currency' go together")
        return self


class ListRule(_Spec):
    """A list of our sub-records (order lines) made from a list in their record (``each``), or a list of
    one made from the record itself when ``each`` is left out (one price becomes one price tier)."""

    each: str | None = None
    fields: dict[str, "Rule"]


Rule = Annotated[str | FieldRule | ListRule, Field(union_mode="left_to_right")]


class Pull(_Spec):
    kind: BulkKind
    source: dict[str, Any]
    external_id: str
    fields: dict[str, Rule]


class PushKind(StrEnum):
    """Our documents a connector can send to their system."""

    PURCHASE_ORDER = "purchase_order"
    INVOICE = "invoice"
    GOODS_RECEIPT = "goods_receipt"


# a document is pushed once (a create): later changes of it are not sent as updates
PUSH_EVENTS = {"order.confirmed": PushKind.PURCHASE_ORDER, "invoice.issued": PushKind.INVOICE,
               "invoice.approved": PushKind.INVOICE, "goods.received": PushKind.GOODS_RECEIPT}


class Push(_Spec):
    """One of our documents sent to their system: ``fields`` are built from our document (paths into it), the
    same rules as a pull in the other direction; ``response_id`` is the path of their key in the answer."""

    kind: PushKind
    events: list[str] = Field(min_length=1)  # outbox topics that send it, e.g. [order.confirmed]
    target: dict[str, Any]  # profile-specific: SAP {service, entity}, Odoo {model}, Kingdee {form_id}, …
    response_id: str = ""  # empty: the answer itself is their key (Odoo's create)
    fields: dict[str, Rule]

    @model_validator(mode="after")
    def _known_events(self) -> "Push":
        wrong = [event for event in self.events if PUSH_EVENTS.get(event) is not self.kind]
        if wrong:
            known = ", ".join(event for event, kind in PUSH_EVENTS.items() if kind is self.kind)
            raise ValueError(f"{self.kind.value} is pushed on {known}, not on {', '.join(wrong)}")
        return self


class MappingDocument(_Spec):
    """A connector's whole mapping document: what it pulls, what it pushes (at least one of them)."""

    pulls: list[Pull] = Field(default_factory=list, max_length=20)
    pushes: list[Push] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _something(self) -> "MappingDocument":
        if not self.pulls and not self.pushes:
            raise ValueError("name at least one pull or push")
        return self


def parse_mapping(text: str) -> MappingDocument:
    """The mapping in ``text``, or 422 ``connector_mapping_invalid`` naming the line or field at fault."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise Invalid(f"The mapping is not valid YAML{where}.", code="connector_mapping_invalid") from None
    try:
        return MappingDocument.model_validate(document)
    except ValidationError as exc:
        errors = [{"pointer": "/" + "/".join(map(str, error["loc"])), "detail": error["msg"]} for error in exc.errors()]
        raise Invalid("The mapping does not follow the mapping rules.", code="connector_mapping_invalid",
                      errors=errors[:20]) from None


class MappingError(Exception):
    """One of their records cannot be mapped (a missing field, an unmapped code, a bad number)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def read_path(record: Any, path: str) -> Any:
    """``a.b.0.c`` inside nested dicts and lists; None where anything on the way is missing.

    A key that itself contains dots (Kingdee's ``FBaseUnitId.FNumber``) is found as it is.
    """
    if isinstance(record, Mapping) and path in record:
        return record[path]
    value = record
    for step in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _transformed(value: Any, transform: Transform) -> Any:
    if transform == "sap_date":
        match = _SAP_DATE.match(str(value))
        if match is None:
            raise ValueError(f"{value!r} is not an OData date /Date(ms)/")
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, dt.UTC).date().isoformat()
    if transform == "date":
        return dt.date.fromisoformat(str(value)[:10]).isoformat()
    if transform == "yyyymmdd":  # IDoc dates
        return dt.datetime.strptime(str(value), "%Y%m%d").date().isoformat()
    if transform == "decimal":
        return str(Decimal(str(value)))
    if transform == "integer":  # Odoo ids
        return int(str(value))
    if transform == "odata_date":  # an ISO date as OData v2 writes it
        day = dt.date.fromisoformat(str(value)[:10])
        return f"/Date({int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1000)})/"
    text = str(value)
    return {"strip": text.strip(), "upper": text.upper(), "lower": text.lower(), "text": text}[transform]


class Converter:
    """Unit and currency conversion for one sync: catalogue units, and exchange rates to CNY."""

    def __init__(self, rates_to_cny: Mapping[str, Decimal]) -> None:
        self.rates_to_cny = rates_to_cny

    def amount(self, value: Decimal, from_currency: str, to_currency: str) -> Decimal:
        if from_currency == to_currency:
            return value
        try:
            in_cny = value * self.rates_to_cny[from_currency]
            return (in_cny / self.rates_to_cny[to_currency]).quantize(MONEY_PLACES)
        except KeyError as missing:
            raise ValueError(f"no exchange rate for {missing.args[0]}") from None

    @staticmethod
    def quantity(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
        try:
            return convert(value, from_unit, to_unit, places=6).normalize()
        except TradeloomError as exc:
            raise ValueError(exc.message) from None


def _context_value(path: str, scopes: list[Any]) -> Any:
    for scope in scopes:
        if (value := read_path(scope, path)) not in (None, ""):
            return value
    return None


def _missing(value: Any) -> bool:
    """None, an empty string, or Odoo's ``false`` for an empty field (``is``: a 0 is a value)."""
    return value is None or value == "" or value is False


def _value(name: str, rule: FieldRule, scopes: list[Any], converter: Converter) -> Any:
    value = rule.const if rule.from_ is None else read_path(scopes[0], rule.from_)
    if _missing(value):
        return rule.default
    if rule.map is not None:
        if str(value) not in rule.map:
            raise MappingError(name, f"their code {value!r} has no entry in the map")
        value = rule.map[str(value)]
    try:
        for transform in rule.transform:
            value = _transformed(value, transform)
        if rule.to_unit is not None and rule.unit_from is not None:
            their_unit = str(_context_value(rule.unit_from, scopes))
            value = str(converter.quantity(Decimal(str(value)), rule.unit_map.get(their_unit, their_unit),
                                           rule.to_unit))
        if rule.to_currency is not None and rule.currency_from is not None:
            value = str(converter.amount(Decimal(str(value)), str(_context_value(rule.currency_from, scopes)),
                                         rule.to_currency))
    except (ValueError, InvalidOperation, ArithmeticError) as exc:
        raise MappingError(name, str(exc) or type(exc).__name__) from None
    _check_storable(name, value)
    return value


def _check_storable(name: str, value: Any) -> None:
    """PostgreSQL text cannot hold U+0000: one such record is refused, not the whole sync."""
    if isinstance(value, str) and "\x00" in value:
        raise MappingError(name, "their text holds a NUL character (U+0000), which cannot be stored")


def _mapped(fields: Mapping[str, str | FieldRule | ListRule], scopes: list[Any],
            converter: Converter) -> dict[str, Any]:
    ours: dict[str, Any] = {}
    for name, rule in fields.items():
        if isinstance(rule, ListRule):
            items = [scopes[0]] if rule.each is None else read_path(scopes[0], rule.each) or []
            ours[name] = [_mapped(rule.fields, [item, *scopes], converter) for item in items]
            continue
        value = _value(name, FieldRule(**{"from": rule}) if isinstance(rule, str) else rule, scopes, converter)
        if value is not None:
            _place(ours, name, value)
    return ours


def _place(ours: dict[str, Any], name: str, value: Any) -> None:
    """``attributes.thread`` fills ``{"attributes": {"thread": …}}``."""
    *parents, leaf = name.split(".")
    for parent in parents:
        ours = ours.setdefault(parent, {})
    ours[leaf] = value


def map_document(push: Push, ours: Mapping[str, Any], converter: Converter) -> dict[str, Any]:
    """Their record for one of our documents (``ours``: the facts of ``integrations.connectors.documents``)."""
    return _mapped(push.fields, [ours], converter)


def map_record(pull: Pull, theirs: Mapping[str, Any], converter: Converter) -> dict[str, Any]:
    """Our bulk record for their record; ``MappingError`` when it cannot be made."""
    external_id = read_path(theirs, pull.external_id)
    if external_id in (None, ""):
        raise MappingError("external_id", f"their field {pull.external_id} is empty")
    _check_storable("external_id", str(external_id))
    return {"external_id": str(external_id)} | _mapped(pull.fields, [theirs], converter)


PROFILE_DIR = Path(__file__).parent / "profiles"


def profile_mapping(profile: str) -> str:
    """The mapping shipped for a profile: the starting point an org admin edits."""
    return (PROFILE_DIR / f"{profile}.yaml").read_text(encoding="utf-8")


def alternative_mappings(profile: str) -> dict[str, str]:
    """Further shipped mappings for a profile (``sap_s4hana_crm``: customers and contacts instead of orders)."""
    return {path.stem: path.read_text(encoding="utf-8")
            for path in sorted(PROFILE_DIR.glob(f"{profile}_*.yaml"))}
