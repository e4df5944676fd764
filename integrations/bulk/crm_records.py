"""CRM customers and contacts, and SRM qualification documents, in bulk: unlike orders these are refreshed
when sent again (a contact's new phone number, a renewed certificate), so a record whose external id is
known updates its object (reported ``existing``) and a new one creates it. Each record in a savepoint."""

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from commerce.qualifications.rules import DocType
from commerce.qualifications.service import QualificationFields, import_qualification
from integrations.bulk.order_records import organizations_by_uscc
from integrations.bulk.outcome import Outcomes, Problem, refused_pointer
from integrations.bulk.records import BulkRecord, ContactRecord, CustomerRecord, QualificationRecord
from integrations.crm.service import buyer_matches, normalized_tax_id, save_contact, save_customer
from integrations.external_ids.service import ObjectType, known_ids
from tradeloom.audit import Actor
from tradeloom.errors import TradeloomError

# (index, record, our object id when the external id is known already)
Upsert = tuple[int, BulkRecord, uuid.UUID | None]


async def _write(session: AsyncSession, outcomes: Outcomes, index: int, known_id: uuid.UUID | None,
                 write: Callable[[], Awaitable[uuid.UUID]]) -> None:
    try:
        async with session.begin_nested():
            object_id = await write()
    except TradeloomError as refused:
        outcomes.reject(index, Problem(refused_pointer(refused), refused.code, refused.message))
        return
    (outcomes.created if known_id is None else outcomes.existing)[index] = object_id


async def write_customer_records(session: AsyncSession, *, actor: Actor, source_system: str,
                                 records: Sequence[Upsert], outcomes: Outcomes) -> None:
    """Customers, matched to platform buyers by USCC / tax id first, else by name."""
    customers = [(i, r, known) for i, r, known in records if isinstance(r, CustomerRecord)]
    by_tax, by_name = await buyer_matches(
        session, tax_ids={t for _, r, _ in customers if (t := normalized_tax_id(r.tax_id))},
        names={r.name.strip() for _, r, _ in customers})
    for index, record, known_id in customers:
        tax_id = normalized_tax_id(record.tax_id)
        buyer = ((by_tax[tax_id], "tax_id") if tax_id in by_tax
                 else (by_name[record.name.strip()], "name") if record.name.strip() in by_name else None)
        fields = record.model_dump(exclude={"external_id"}) | {"tax_id": tax_id, "name": record.name.strip()}
        await _write(session, outcomes, index, known_id, functools.partial(
            save_customer, session, org_id=actor.org_id, source_system=source_system,
            external_id=record.external_id, known_id=known_id, fields=fields, buyer=buyer))


async def write_contact_records(session: AsyncSession, *, actor: Actor, source_system: str,
                                records: Sequence[Upsert], outcomes: Outcomes) -> None:
    """Contacts, tied to the customers synced before (``customer_ref``); fields left out stay as they are."""
    contacts = [(i, r, known) for i, r, known in records if isinstance(r, ContactRecord)]
    customers = await known_ids(session, org_id=actor.org_id, source_system=source_system,
                                object_type=ObjectType.CRM_CUSTOMER,
                                external_ids={r.customer_ref for _, r, _ in contacts if r.customer_ref})
    for index, record, known_id in contacts:
        fields = record.model_dump(exclude={"external_id", "customer_ref"}, exclude_unset=True)
        if record.customer_ref is not None:
            if record.customer_ref not in customers:
                outcomes.reject(index, Problem("/customer_ref", "customer_unknown",
                                               f"customer {record.customer_ref} of {source_system} is not synced"))
                continue
            fields["customer_id"] = customers[record.customer_ref]
        await _write(session, outcomes, index, known_id, functools.partial(
            save_contact, session, org_id=actor.org_id, source_system=source_system,
            external_id=record.external_id, known_id=known_id, fields=fields))


async def write_qualification_records(session: AsyncSession, *, actor: Actor, source_system: str,
                                      records: Sequence[Upsert], outcomes: Outcomes) -> None:
    """Suppliers' qualification documents from the buyer's SRM (supplier by USCC or synced partner number)."""
    documents = [(i, r, known) for i, r, known in records if isinstance(r, QualificationRecord)]
    by_uscc = await organizations_by_uscc(session, {r.supplier_uscc for _, r, _ in documents if r.supplier_uscc})
    by_ref = await known_ids(session, org_id=actor.org_id, source_system=source_system,
                             object_type=ObjectType.ORGANIZATION,
                             external_ids={r.supplier_ref for _, r, _ in documents if r.supplier_ref})
    for index, record, known_id in documents:
        supplier = by_uscc.get(record.supplier_uscc or "") or by_ref.get(record.supplier_ref or "")
        if supplier is None:
            pointer = "/supplier_uscc" if record.supplier_uscc else "/supplier_ref"
            outcomes.reject(index, Problem(pointer, "supplier_unknown", "no platform supplier is known by it"))
            continue
        if record.doc_type not in DocType.__members__.values():
            outcomes.reject(index, Problem("/doc_type", "doc_type_unknown",
                                           f"{record.doc_type!r} is not one of {', '.join(DocType)}"))
            continue
        fields = QualificationFields(DocType(record.doc_type), record.number, record.issuer, record.valid_until,
                                     record.valid_from, record.is_required)
        await _write(session, outcomes, index, known_id, functools.partial(
            import_qualification, session, actor=actor, supplier_org_id=supplier, fields=fields,
            source_system=source_system, external_id=record.external_id, known_id=known_id))
