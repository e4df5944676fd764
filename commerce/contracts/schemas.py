"""Contract bodies and documents. Prices are per base unit of the material; caps are optional."""

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import Field, model_validator

from catalog.schemas.common import Currency, DecimalText, Money, PositiveQuantity
from tradeloom.schemas import ApiModel, StrictModel


class ContractKind(StrEnum):
    SPOT = "spot"  # one purchase, fixed quantities
    FRAMEWORK = "framework"  # a price list with caps, drawn down by call-offs


class ContractItemIn(StrictModel):
    material_id: uuid.UUID
    unit_price: Money = Field(description="per base unit of the material")
    quantity_cap: PositiveQuantity | None = Field(default=None, description="in base units")
    value_cap: Money | None = None


class TermsIn(StrictModel):
    """What a terms version fixes (besides the parties, kind and currency, which never change)."""

    title: str = Field(min_length=1, max_length=200)
    valid_from: dt.date
    valid_to: dt.date | None = None
    value_cap: Money | None = Field(default=None, description="the most all call-offs together may be worth")
    terms_text: str = Field(default="", max_length=20_000)
    items: list[ContractItemIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def one_item_per_material(self) -> "TermsIn":
        materials = [item.material_id for item in self.items]
        if len(set(materials)) != len(materials):
            raise ValueError("a material appears in two items")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class ContractCreate(TermsIn):
    supplier_org_id: uuid.UUID
    kind: ContractKind
    currency: Currency


class AmendmentIn(TermsIn):
    """The whole new terms (items replace the old ones; what was drawn is kept) and why they change."""

    reason: str = Field(min_length=1, max_length=300)


class SignIn(StrictModel):
    """Empty for a platform-kept key; the base64 Ed25519 signature of the document hash for an uploaded key."""

    signature: str | None = Field(default=None, max_length=200)


class PublicKeyIn(StrictModel):
    public_key: str = Field(min_length=40, max_length=100, description="base64 of the raw 32-byte Ed25519 key")


class SigningKeyOut(ApiModel):
    id: uuid.UUID
    org_id: uuid.UUID
    custody: str
    public_key: str
    created_at: dt.datetime


class CallOffLineIn(StrictModel):
    material_id: uuid.UUID
    quantity: PositiveQuantity = Field(description="in base units")


class CallOffIn(StrictModel):
    delivery_site_id: uuid.UUID
    lines: list[CallOffLineIn] = Field(min_length=1, max_length=500)


class ContractItemOut(ApiModel):
    id: uuid.UUID
    material_id: uuid.UUID
    unit: str
    unit_price: DecimalText
    quantity_cap: DecimalText | None
    value_cap: DecimalText | None
    quantity_drawn: DecimalText
    value_drawn: DecimalText


class ContractOut(ApiModel):
    id: uuid.UUID
    number: str
    org_id: uuid.UUID = Field(description="the buyer")
    supplier_org_id: uuid.UUID
    kind: ContractKind
    title: str
    currency: str
    status: str = Field(description="awaiting_signatures | effective | amendment_awaiting_signatures")
    terms_version: int
    signed_terms_version: int | None
    valid_from: dt.date
    valid_to: dt.date | None
    value_cap: DecimalText | None
    value_drawn: DecimalText
    price_list_id: uuid.UUID | None
    version: int
    items: list[ContractItemOut]


class SignatureOut(ApiModel):
    org_id: uuid.UUID
    terms_version: int
    signer_user_id: uuid.UUID | None
    document_hash: str
    public_key: str
    signature: str
    signed_at: dt.datetime
    evidence_entry_id: int
    valid: bool = Field(description="the signature verifies against the public key and the hash")


class TermsVersionOut(ApiModel):
    terms_version: int
    document_hash: str
    change: str
    created_at: dt.datetime
    document: dict[str, object]


class VerificationOut(ApiModel):
    """Everything needed to check the contract offline: SHA-256 of the RFC 8785 JSON, keys and signatures."""

    contract_id: uuid.UUID
    terms_version: int
    document_hash: str
    hash_matches_document: bool
    signatures: list[SignatureOut]
    fully_signed: bool


class CallOffOut(ApiModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    supplier_org_id: uuid.UUID
    delivery_site_id: uuid.UUID
    amount: DecimalText
    lines: list[dict[str, str]]
    order_reference: str | None
    created_at: dt.datetime
