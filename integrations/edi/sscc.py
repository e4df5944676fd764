"""SSCC-18 for every parcel and pallet a supplier dispatches (GS1 General Specifications §3.3.1 / AI 00).

An SSCC is extension digit + GS1 company prefix + serial reference (17 digits in all) + the GS1 check digit.
A supplier that registered its GS1 company prefix (``PUT /api/v1/edi/gs1-prefix``) numbers its packages under
it, from its own counter (one conditional ``UPDATE … RETURNING``: two dispatches never get the same number).
A supplier without one gets numbers under the platform's prefix (``TRADELOOM_PLATFORM_GS1_PREFIX``) from one
platform-wide sequence: unique on the platform, but only as global as that prefix is — the default 0200000 is
in GS1's restricted-circulation range, fine between the two parties of an order, not in open supply chains.

Allocation runs in the supplier's tenant (its counter), once per package; both parties read the numbers.
"""

import uuid

from biip.checksums import gs1_standard_check_digit
from sqlalchemy import ScalarResult, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from commerce.logistics.service.queries import shipment_view
from integrations.edi.models import Gs1CompanyPrefix, ShipmentSscc
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict
from tradeloom.errors import Conflict, Invalid

EXTENSION_DIGIT = "0"
BODY_DIGITS = 17


def sscc(company_prefix: str, serial_reference: int, extension: str = EXTENSION_DIGIT) -> str:
    """The 18 digits: extension, prefix, serial reference padded to 17, check digit."""
    width = BODY_DIGITS - 1 - len(company_prefix)
    if serial_reference >= 10 ** width:
        raise Conflict(f"All {10 ** width} SSCC serial references of prefix {company_prefix} are used.",
                       code="sscc_exhausted")
    body = extension + company_prefix + str(serial_reference).zfill(width)
    return body + str(gs1_standard_check_digit(body))


def check_prefix(company_prefix: str) -> str:
    if not company_prefix.isdigit() or not 6 <= len(company_prefix) <= 12:
        raise Invalid("A GS1 company prefix is 6 to 12 digits.", code="gs1_prefix_invalid")
    return company_prefix


async def set_company_prefix(session: AsyncSession, *, actor: Actor, company_prefix: str) -> Gs1CompanyPrefix:
    """Register (or correct, before any SSCC was allocated) the organization's GS1 company prefix."""
    check_prefix(company_prefix)
    found = await session.scalar(select(Gs1CompanyPrefix).where(Gs1CompanyPrefix.org_id == actor.org_id))
    if found is not None and found.last_serial_reference and found.company_prefix != company_prefix:
        raise Conflict("SSCCs were allocated under the current prefix; it cannot change.", code="gs1_prefix_in_use")
    if found is None:
        found = Gs1CompanyPrefix(org_id=actor.org_id, company_prefix=company_prefix, last_serial_reference=0)
        session.add(found)
    found.company_prefix = company_prefix
    await flush_or_conflict(session, "Another organization registered this GS1 company prefix.", "gs1_prefix_taken")
    await record_audit(session, actor=actor, action="integration.gs1_prefix_set", object_type="gs1_company_prefix",
                       object_id=found.id, details={"company_prefix": company_prefix})
    return found


async def company_prefix(session: AsyncSession) -> Gs1CompanyPrefix | None:
    """The caller's registered prefix, if any."""
    return await session.scalar(select(Gs1CompanyPrefix))


async def _serials(session: AsyncSession, supplier_org_id: uuid.UUID, count: int,
                   platform_prefix: str) -> tuple[str, str, list[int]]:
    """``count`` fresh serial references: from the supplier's counter, else the platform sequence."""
    taken = (await session.execute(update(Gs1CompanyPrefix).where(Gs1CompanyPrefix.org_id == supplier_org_id).values(
        last_serial_reference=Gs1CompanyPrefix.last_serial_reference + count,
    ).returning(Gs1CompanyPrefix.company_prefix, Gs1CompanyPrefix.last_serial_reference))).first()
    if taken is not None:
        prefix, last = taken
        return prefix, "company", list(range(last - count + 1, last + 1))
    serials: ScalarResult[int] = await session.scalars(select(func.nextval(text("'sscc_platform_serial'")))
                                    .select_from(func.generate_series(1, count)))
    return platform_prefix, "platform", [int(serial) for serial in serials]


async def allocate_ssccs(session: AsyncSession, *, shipment_id: uuid.UUID,
                         platform_prefix: str) -> dict[uuid.UUID, str]:
    """SSCCs for the shipment's packages that have none yet (pallets first); returns every package's SSCC."""
    view = await shipment_view(session, shipment_id=shipment_id)
    known = await ssccs_of(session, shipment_id=shipment_id)
    missing = [p for p in sorted(view.packages, key=lambda p: (p.kind != "pallet", p.label)) if p.id not in known]
    if missing:
        shipment = view.shipment
        prefix, source, serials = await _serials(session, shipment.supplier_org_id, len(missing),
                                                 check_prefix(platform_prefix))
        await session.execute(insert(ShipmentSscc).on_conflict_do_nothing(index_elements=["package_id"]), [
            {"id": uuid.uuid4(), "package_id": package.id, "shipment_id": shipment.id,
             "buyer_org_id": shipment.buyer_org_id, "supplier_org_id": shipment.supplier_org_id,
             "sscc": sscc(prefix, serial), "source": source} for package, serial in zip(missing, serials, strict=True)])
        known = await ssccs_of(session, shipment_id=shipment_id)
    return known


async def ssccs_of(session: AsyncSession, *, shipment_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """Package id → SSCC for one shipment (either party may read them)."""
    rows = await session.execute(select(ShipmentSscc.package_id, ShipmentSscc.sscc)
                                 .where(ShipmentSscc.shipment_id == shipment_id))
    return {package_id: value for package_id, value in rows}
