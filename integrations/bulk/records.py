"""What one record of each bulk kind holds (JSON), and how catalogue records become import rows.

Materials, offers and price lists are checked and written by the catalogue's import machinery
(``catalog.imports.rows`` / ``apply``), so a bulk record obeys exactly the rules of a spreadsheet row: the
record is turned into the row the import would have read. Problems come back numbered by row; here the
"row" is the record's index in the request (a price list's lines each become a row of their record).
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from catalog.imports.rows import ATTRIBUTE_PREFIX, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, ImportKind
from integrations.external_ids.service import ObjectType
from tradeloom.schemas import StrictModel

MAX_RECORDS = 10_000
ExternalKey = Annotated[str, Field(min_length=1, max_length=120)]
Cell = str | int | Decimal


class BulkKind(StrEnum):
    MATERIALS = "materials"
    OFFERS = "offers"
    PRICE_LISTS = "price_lists"
    ORDERS = "orders"
    PARTNERS = "partners"
    STOCK_LEVELS = "stock_levels"
    INVOICES = "invoices"
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    QUALIFICATIONS = "qualifications"


OBJECT_TYPE = {BulkKind.MATERIALS: ObjectType.MATERIAL, BulkKind.OFFERS: ObjectType.OFFER,
               BulkKind.PRICE_LISTS: ObjectType.PRICE_LIST, BulkKind.ORDERS: ObjectType.PURCHASE_ORDER,
               BulkKind.PARTNERS: ObjectType.ORGANIZATION, BulkKind.STOCK_LEVELS: ObjectType.STOCK_COUNT,
               BulkKind.INVOICES: ObjectType.INVOICE, BulkKind.CUSTOMERS: ObjectType.CRM_CUSTOMER,
               BulkKind.CONTACTS: ObjectType.CRM_CONTACT, BulkKind.QUALIFICATIONS: ObjectType.QUALIFICATION}
# kinds whose records are refreshed when sent again (a CRM contact's new phone number), not just "existing"
UPSERT_KINDS = frozenset({BulkKind.CUSTOMERS, BulkKind.CONTACTS, BulkKind.QUALIFICATIONS})
IMPORT_KIND = {BulkKind.MATERIALS: ImportKind.MATERIALS, BulkKind.OFFERS: ImportKind.OFFERS,
               BulkKind.PRICE_LISTS: ImportKind.PRICE_LISTS}


def exactly_one(first: object, second: object, what: str, names: tuple[str, str]) -> None:
    """Records name a thing by our key or by the sender's: one of the two, not both, not neither."""
    if (first is None) == (second is None):
        raise ValueError(f"name the {what} by exactly one of {names[0]} and {names[1]}")


class BulkRecord(StrictModel):
    """Every record carries the sender's key for it."""

    external_id: ExternalKey


class MaterialRecord(BulkRecord):
    """A draft material of the unified code library (attributes by the class's attribute keys)."""

    class_code: str
    name_zh: str
    name_en: str
    base_unit: str
    gtin: str | None = None
    attributes: dict[str, Cell] = Field(default_factory=dict)


class PriceTier(StrictModel):
    min_quantity: Decimal
    unit_price: Decimal


class OfferRecord(BulkRecord):
    """A supplier offer for a catalogue material, with its price breaks."""

    supplier_part_number: str
    material_code: str
    currency: str
    order_unit: str
    price_tiers: list[PriceTier] = Field(min_length=1, max_length=50)
    moq: Decimal | None = None
    pack_size: Decimal | None = None
    lead_time_days: int | None = None
    incoterm: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class PriceListLineRecord(StrictModel):
    material_code: str
    unit_price: Decimal
    min_quantity: Decimal | None = None


class PriceListRecord(BulkRecord):
    """A customer price list for one buyer (named by its USCC), with its lines."""

    name: str
    buyer_uscc: str
    currency: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    lines: list[PriceListLineRecord] = Field(min_length=1, max_length=1_000)


class MaterialNamed(StrictModel):
    """Names our material code, or the sender's material number once synced (``material_ref``)."""

    material_code: str | None = Field(default=None, max_length=32)
    material_ref: str | None = Field(default=None, min_length=1, max_length=120)

    @model_validator(mode="after")
    def _one_material(self) -> "MaterialNamed":
        exactly_one(self.material_code, self.material_ref, "material", ("material_code", "material_ref"))
        return self

    @property
    def material_key(self) -> str:
        return f"code:{self.material_code}" if self.material_code else f"ref:{self.material_ref}"

    @property
    def material_field(self) -> str:
        return "material_code" if self.material_code else "material_ref"


class OrderLineRecord(MaterialNamed):
    quantity: Decimal
    unit: str = Field(max_length=16)
    unit_price: Decimal
    tax_rate: str = "13"
    requested_date: dt.date | None = None


class OrderRecord(BulkRecord):
    """A purchase order the buyer's ERP places with a supplier for one of its sites.

    The supplier is named by its USCC, or by the sender's own partner number (``supplier_ref``) once that
    partner was synced (kind ``partners``).
    """

    supplier_uscc: str | None = Field(default=None, min_length=18, max_length=18)
    supplier_ref: str | None = Field(default=None, min_length=1, max_length=120)
    delivery_site_code: str = Field(min_length=1, max_length=32)
    currency: str = Field(min_length=3, max_length=3)
    reference: str | None = Field(default=None, max_length=100)
    payment_terms: str = Field(default="", max_length=100)
    requested_date: dt.date | None = None
    lines: list[OrderLineRecord] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_supplier(self) -> "OrderRecord":
        exactly_one(self.supplier_uscc, self.supplier_ref, "supplier", ("supplier_uscc", "supplier_ref"))
        return self


class PartnerRecord(BulkRecord):
    """A business partner (supplier or customer) of the sender, linked to the platform organization with
    its USCC: partners are not created here (organizations register themselves), only mapped."""

    uscc: str = Field(min_length=18, max_length=18)
    name: str | None = Field(default=None, max_length=300)


class StockLevelRecord(BulkRecord, MaterialNamed):
    """What the sender's warehouse system counted at one of our warehouse locations (by codes): the level is
    set to it through a stock adjustment, so the movement log stays the record of every change."""

    warehouse_code: str = Field(min_length=1, max_length=32)
    location_code: str = Field(min_length=1, max_length=32)
    quantity: Decimal = Field(ge=0)
    unit: str = Field(max_length=16)
    batch: str = Field(default="", max_length=40)
    serial: str = Field(default="", max_length=40)
    as_of: dt.datetime | None = None


class InvoiceLineRecord(StrictModel):
    order_line_no: int = Field(ge=1)
    quantity: Decimal
    unit_price: Decimal
    tax_rate: str = "13"


class InvoiceRecord(BulkRecord):
    """A fapiao the supplier's ERP issued for one purchase order (our order number, or the sender's key of
    the order once synced as ``order_ref``), issued through the settlement module."""

    order_number: str | None = Field(default=None, min_length=1, max_length=20)
    order_ref: str | None = Field(default=None, min_length=1, max_length=120)
    fapiao_type: str = "special"
    fapiao_number: str = Field(min_length=1, max_length=20)
    issue_date: dt.date
    lines: list[InvoiceLineRecord] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_order(self) -> "InvoiceRecord":
        exactly_one(self.order_number, self.order_ref, "order", ("order_number", "order_ref"))
        return self


class CustomerRecord(BulkRecord):
    """A customer company of the sender's CRM; linked to the platform organization with the same USCC or tax
    id (else the same name) where there is one, else kept as a CRM customer record only."""

    name: str = Field(min_length=1, max_length=300)
    tax_id: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=60)
    city: str | None = Field(default=None, max_length=120)
    country: str | None = Field(default=None, min_length=2, max_length=2)


class ContactRecord(BulkRecord):
    """A person of the sender's CRM, at the customer it names by the sender's key (``customer_ref``).

    Fields left out are left as they are: two pulls may fill one contact (SAP keeps the person's name on
    the person and the e-mail on the relationship to the company)."""

    customer_ref: str | None = Field(default=None, min_length=1, max_length=120)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=60)
    role: str | None = Field(default=None, max_length=120)


class QualificationRecord(BulkRecord):
    """A supplier's qualification document as the buyer's SRM holds it; the supplier named by its USCC or by
    the sender's partner number (``supplier_ref``) once synced."""

    supplier_uscc: str | None = Field(default=None, min_length=18, max_length=18)
    supplier_ref: str | None = Field(default=None, min_length=1, max_length=120)
    doc_type: str = Field(min_length=1, max_length=32)
    number: str = Field(min_length=1, max_length=80)
    issuer: str = Field(min_length=1, max_length=200)
    valid_from: dt.date | None = None
    valid_until: dt.date
    is_required: bool = False

    @model_validator(mode="after")
    def _one_supplier(self) -> "QualificationRecord":
        exactly_one(self.supplier_uscc, self.supplier_ref, "supplier", ("supplier_uscc", "supplier_ref"))
        return self


RECORD_MODEL: dict[BulkKind, type[BulkRecord]] = {
    BulkKind.MATERIALS: MaterialRecord, BulkKind.OFFERS: OfferRecord,
    BulkKind.PRICE_LISTS: PriceListRecord, BulkKind.ORDERS: OrderRecord, BulkKind.PARTNERS: PartnerRecord,
    BulkKind.STOCK_LEVELS: StockLevelRecord, BulkKind.INVOICES: InvoiceRecord,
    BulkKind.CUSTOMERS: CustomerRecord, BulkKind.CONTACTS: ContactRecord, BulkKind.QUALIFICATIONS: QualificationRecord,
}


@dataclass(frozen=True)
class ImportSheet:
    """Catalogue records as an import would read them; ``record_of_row[i]`` is the record of row ``i``."""

    header: list[str]
    rows: list[list[str]]
    record_of_row: list[int]


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _tiers(tiers: Sequence[PriceTier]) -> str:
    return ";".join(f"{tier.min_quantity}:{tier.unit_price}" for tier in tiers)


def import_sheet(kind: BulkKind, records: Sequence[tuple[int, BulkRecord]]) -> ImportSheet:
    """The rows the catalogue import reads for these (index, record) pairs."""
    import_kind = IMPORT_KIND[kind]
    header = list(REQUIRED_COLUMNS[import_kind] + OPTIONAL_COLUMNS[import_kind])
    if kind is BulkKind.MATERIALS:
        keys = sorted({key for _, record in records if isinstance(record, MaterialRecord) for key in record.attributes})
        header += [ATTRIBUTE_PREFIX + key for key in keys]
    rows: list[list[str]] = []
    owners: list[int] = []
    for index, record in records:
        for values in _row_values(record):
            rows.append([_cell(values.get(column)) for column in header])
            owners.append(index)
    return ImportSheet(header, rows, owners)


def _row_values(record: BulkRecord) -> list[dict[str, Any]]:
    if isinstance(record, MaterialRecord):
        values = record.model_dump(exclude={"external_id", "attributes"})
        return [values | {ATTRIBUTE_PREFIX + key: value for key, value in record.attributes.items()}]
    if isinstance(record, OfferRecord):
        return [record.model_dump(exclude={"external_id", "price_tiers"}) | {"price_tiers": _tiers(record.price_tiers)}]
    assert isinstance(record, PriceListRecord)
    head = {"price_list_name": record.name, "buyer_uscc": record.buyer_uscc, "currency": record.currency,
            "valid_from": record.valid_from, "valid_to": record.valid_to}
    return [head | line.model_dump() for line in record.lines]
