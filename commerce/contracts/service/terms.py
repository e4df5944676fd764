"""The terms document: every fact the parties agree to, as RFC 8785 canonical JSON, and its SHA-256.

Decimals are plain strings, dates ISO 8601, so the same terms always give the same bytes and the same hash,
whoever computes it (``GET /contracts/{id}/verification`` hands out what is needed to check it offline).
"""

import hashlib
from decimal import Decimal
from typing import Any

import rfc8785
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.service.materials import get_material
from commerce.contracts.models import Contract
from commerce.contracts.schemas import ContractItemIn, TermsIn
from tradeloom.identity.service import get_organization


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


async def _party(session: AsyncSession, org_id: Any) -> dict[str, str]:
    organization = await get_organization(session, org_id)
    return {"org_id": str(organization.id), "name_zh": organization.name_zh, "name_en": organization.name_en,
            "uscc": organization.uscc}


async def terms_document(
    session: AsyncSession, *, contract: Contract, terms_version: int, terms: TermsIn
) -> dict[str, Any]:
    """The document of one terms version (materials named by code and names, as printed)."""
    rows = []
    for item in sorted(terms.items, key=lambda i: str(i.material_id)):
        material = await get_material(session, material_id=item.material_id)
        rows.append({"material_id": str(material.id), "material_code": material.code, "name_zh": material.name_zh,
                     "name_en": material.name_en, "unit": material.base_unit,
                     "unit_price": _plain(item.unit_price), "quantity_cap": _plain(item.quantity_cap),
                     "value_cap": _plain(item.value_cap)})
    return {
        "contract_id": str(contract.id), "number": contract.number, "kind": contract.kind,
        "terms_version": terms_version, "currency": contract.currency, "title": terms.title,
        "valid_from": terms.valid_from.isoformat(), "valid_to": terms.valid_to.isoformat() if terms.valid_to else None,
        "value_cap": _plain(terms.value_cap), "terms_text": terms.terms_text,
        "buyer": await _party(session, contract.org_id), "supplier": await _party(session, contract.supplier_org_id),
        "items": rows,
    }


def document_hash(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of the document's RFC 8785 canonical JSON."""
    return hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def terms_of(document: dict[str, Any]) -> TermsIn:
    """The terms a document fixes (to put them in force once both parties signed it)."""
    return TermsIn(
        title=document["title"], valid_from=document["valid_from"], valid_to=document["valid_to"],
        value_cap=_decimal(document["value_cap"]), terms_text=document["terms_text"],
        items=[ContractItemIn(material_id=row["material_id"], unit_price=Decimal(row["unit_price"]),
                              quantity_cap=_decimal(row["quantity_cap"]), value_cap=_decimal(row["value_cap"]))
               for row in document["items"]],
    )
