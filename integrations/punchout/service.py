"""PunchOut: credentials, the setup handshake, the shopping session and its cart, and the OrderRequest.

The shared secret is stored as a SHA-256 (it is random and long, like an API key, so a slow hash adds
nothing) and compared in constant time. A setup opens a session whose start URL works once; entering it
sets a browser token (cookie) that alone reaches the cart. Prices shown, returned and ordered are the
price engine's for the buyer — contract price lists first.
"""

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import Material, SupplierOffer
from catalog.service.materials import materials_by_code
from catalog.service.pricing import PriceQuote, price_request, quotes_for_many
from commerce.orders.models import PurchaseOrder
from commerce.orders.service.create import CartLine, create_order_from_cart
from commerce.orders.service.transitions import submit_order
from integrations.punchout import cxml
from integrations.punchout.models import PunchOutCredential, PunchOutOrder, PunchOutSession
from tradeloom.audit import Actor, record_audit
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Forbidden, Invalid, NotFound, TradeloomError
from tradeloom.identity.credentials import secret_matches_plain, sha256_hex

ENTRY_VALID_FOR = dt.timedelta(minutes=10)
SESSION_VALID_FOR = dt.timedelta(hours=2)
MAX_CART_LINES = 200


@dataclass(frozen=True)
class CredentialMatch:
    credential_id: uuid.UUID
    org_id: uuid.UUID


@dataclass(frozen=True)
class CatalogueEntry:
    offer: SupplierOffer
    material: Material
    quote: PriceQuote | None


@dataclass(frozen=True)
class PricedCartLine:
    material_code: str
    description: str
    quantity: Decimal
    unit: str
    quote: PriceQuote


# -- credentials -------------------------------------------------------------------------------------------------

async def create_credential(session: AsyncSession, *, actor: Actor, name: str, domain: str, identity: str,
                            supplier_org_id: uuid.UUID, delivery_site_id: uuid.UUID) -> tuple[PunchOutCredential, str]:
    """A credential for the buyer's procurement system; returns it with its shared secret (shown once)."""
    if supplier_org_id == actor.org_id:
        raise Invalid("A buyer cannot punch out to itself.", code="punchout_supplier_is_buyer")
    secret = "pos_" + secrets.token_urlsafe(24)
    credential = PunchOutCredential(id=uuid.uuid4(), org_id=actor.org_id, name=name, domain=domain,
                                    identity=identity, secret_hash=sha256_hex(secret),
                                    supplier_org_id=supplier_org_id, delivery_site_id=delivery_site_id)
    session.add(credential)
    await flush_or_conflict(session, f"The identity {domain}:{identity} is already in use.", "punchout_identity_taken")
    await record_audit(session, actor=actor, action="punchout_credential.created", object_type="punchout_credential",
                       object_id=str(credential.id), details={"domain": domain, "identity": identity})
    return credential, secret


async def list_credentials(session: AsyncSession) -> list[PunchOutCredential]:
    """The organization's credentials by name."""
    return list((await session.scalars(select(PunchOutCredential).order_by(PunchOutCredential.name))).all())


async def set_credential_active(session: AsyncSession, *, actor: Actor, credential_id: uuid.UUID,
                                is_active: bool) -> PunchOutCredential:
    """Switch a credential off (its procurement system is refused at once) or on again."""
    credential = await session.get(PunchOutCredential, credential_id)
    if credential is None:
        raise NotFound("No such PunchOut credential.", code="punchout_credential_not_found")
    credential.is_active = is_active
    await session.flush()
    await record_audit(session, actor=actor, action="punchout_credential.switched", object_type="punchout_credential",
                       object_id=str(credential.id), details={"is_active": is_active})
    return credential


async def authenticate(session: AsyncSession, header: cxml.Header) -> CredentialMatch:
    """The credential the request's From identity names, if its Sender's SharedSecret matches (else 401)."""
    row = (await session.execute(
        text("SELECT id, org_id, secret_hash FROM tl_punchout_credential_lookup(:domain, :identity)"),
        {"domain": header.from_.domain, "identity": header.from_.identity})).first()
    if row is None or not secret_matches_plain(sha256_hex(header.shared_secret), row.secret_hash):
        raise cxml.CxmlError(401, "The credentials are not valid.")
    return CredentialMatch(credential_id=row.id, org_id=row.org_id)


# -- setup and session -------------------------------------------------------------------------------------------

async def open_session(session: AsyncSession, *, match: CredentialMatch,
                       request: cxml.SetupRequest) -> tuple[PunchOutSession, str]:
    """A shopping session for a setup request; returns it with the one-time entry token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    shopping = PunchOutSession(
        id=uuid.uuid4(), org_id=match.org_id, credential_id=match.credential_id, entry_token_hash=sha256_hex(token),
        buyer_cookie=request.buyer_cookie[:200], browser_form_post_url=request.browser_form_post_url,
        user_email=request.user_email, cart=[], status="open", expires_at=now + ENTRY_VALID_FOR, created_at=now,
    )
    session.add(shopping)
    credential = await session.get(PunchOutCredential, match.credential_id)
    if credential is not None:
        credential.last_used_at = now
    await session.flush()
    return shopping, token


async def find_session(session: AsyncSession, token: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(session id, org id) of the session an entry or browser token belongs to, before the tenant is known."""
    row = (await session.execute(text("SELECT id, org_id FROM tl_punchout_session_lookup(:hash)"),
                                 {"hash": sha256_hex(token)})).first()
    return (row.id, row.org_id) if row else None


async def enter_session(session: AsyncSession, *, session_id: uuid.UUID) -> tuple[PunchOutSession, str]:
    """Use the start URL (once): the session is entered and a browser token issued."""
    shopping = await _session(session, session_id)
    if shopping.status != "open" or shopping.expires_at < utcnow():
        raise Forbidden("This PunchOut link was already used or has expired; start again from your "
                        "procurement system.", code="punchout_link_used")
    browser_token = secrets.token_urlsafe(32)
    shopping.status = "entered"
    shopping.browser_token_hash = sha256_hex(browser_token)
    shopping.expires_at = utcnow() + SESSION_VALID_FOR
    await session.flush()
    return shopping, browser_token


async def shopping_session(session: AsyncSession, *, session_id: uuid.UUID) -> PunchOutSession:
    """The entered, unexpired session (403 otherwise)."""
    shopping = await _session(session, session_id)
    if shopping.status != "entered" or shopping.expires_at < utcnow():
        raise Forbidden("This PunchOut session has ended; start again from your procurement system.",
                        code="punchout_session_ended")
    return shopping


async def _session(session: AsyncSession, session_id: uuid.UUID) -> PunchOutSession:
    shopping = await session.get(PunchOutSession, session_id)
    if shopping is None:
        raise NotFound("No such PunchOut session.", code="punchout_session_not_found")
    return shopping


async def credential_of(session: AsyncSession, shopping: PunchOutSession) -> PunchOutCredential:
    credential = await session.get(PunchOutCredential, shopping.credential_id)
    if credential is None or not credential.is_active:
        raise Forbidden("The PunchOut credential was switched off.", code="punchout_credential_inactive")
    return credential


# -- catalogue and cart ------------------------------------------------------------------------------------------

async def catalogue(session: AsyncSession, *, shopping: PunchOutSession, query: str,
                    limit: int = 50) -> list[CatalogueEntry]:
    """The supplier's active offers matching the query, each priced for its minimum order for this buyer."""
    credential = await credential_of(session, shopping)
    today = utcnow().date()
    statement = (
        select(SupplierOffer, Material).join(Material, Material.id == SupplierOffer.material_id)
        .where(SupplierOffer.org_id == credential.supplier_org_id, SupplierOffer.status == "active",
               SupplierOffer.valid_from <= today,
               or_(SupplierOffer.valid_to.is_(None), SupplierOffer.valid_to >= today))
        .order_by(Material.code).limit(limit)
    )
    if query:
        pattern = f"%{query.replace('%', '').replace('_', '')}%"
        statement = statement.where(or_(Material.code.ilike(pattern), Material.name_zh.ilike(pattern),
                                        Material.name_en.ilike(pattern)))
    rows = (await session.execute(statement)).all()
    quotes = await quotes_for_many(
        session, buyer_org_id=shopping.org_id, supplier_org_id=credential.supplier_org_id, on_date=today,
        requests=[price_request(material, offer.moq, offer.order_unit) for offer, material in rows])
    return [CatalogueEntry(offer, material, found[0] if found else None)
            for (offer, material), found in zip(rows, quotes, strict=True)]


async def add_to_cart(session: AsyncSession, *, shopping: PunchOutSession, material_code: str, quantity: Decimal,
                      unit: str) -> None:
    """Add a line (priced when the cart is shown; a line the engine cannot price is refused now)."""
    if len(shopping.cart) >= MAX_CART_LINES:
        raise Invalid(f"A cart holds at most {MAX_CART_LINES} lines.", code="punchout_cart_full")
    line = {"material_code": material_code, "quantity": str(quantity), "unit": unit}
    await priced_cart(session, shopping=shopping, lines=[line])
    shopping.cart = [*shopping.cart, line]
    await session.flush()


async def remove_from_cart(session: AsyncSession, *, shopping: PunchOutSession, index: int) -> None:
    shopping.cart = [line for position, line in enumerate(shopping.cart) if position != index]
    await session.flush()


async def priced_cart(session: AsyncSession, *, shopping: PunchOutSession,
                      lines: list[dict[str, Any]] | None = None) -> list[PricedCartLine]:
    """The cart's lines at today's price for this buyer from the credential's supplier."""
    credential = await credential_of(session, shopping)
    lines = shopping.cart if lines is None else lines
    materials = await materials_by_code(session, codes=[line["material_code"] for line in lines])
    requests = []
    for line in lines:
        if line["material_code"] not in materials:
            raise Invalid(f"No material has code {line['material_code']}.", code="punchout_material_unknown")
        requests.append(price_request(materials[line["material_code"]].material, Decimal(line["quantity"]),
                                      line["unit"]))
    quotes = await quotes_for_many(session, buyer_org_id=shopping.org_id, requests=requests,
                                   on_date=utcnow().date(), supplier_org_id=credential.supplier_org_id)
    priced = []
    for line, request, found in zip(lines, requests, quotes, strict=True):
        if not found:
            raise Invalid(f"The supplier has no price for {line['material_code']} today.",
                          code="punchout_no_price")
        priced.append(PricedCartLine(line["material_code"], request.material.name_zh, found[0].order_quantity,
                                     found[0].order_unit, found[0]))
    return priced


async def return_cart(session: AsyncSession, *, shopping: PunchOutSession) -> str:
    """End the session: the PunchOutOrderMessage to post back to the procurement system."""
    priced = await priced_cart(session, shopping=shopping)
    if not priced:
        raise Invalid("The cart is empty.", code="punchout_cart_empty")
    currencies = {line.quote.currency for line in priced}
    if len(currencies) > 1:
        raise Invalid("The cart mixes currencies; return it in parts.", code="punchout_mixed_currencies")
    credential = await credential_of(session, shopping)
    shopping.status = "returned"
    await session.flush()
    return cxml.order_message(
        buyer_cookie=shopping.buyer_cookie, from_=cxml.Credential(credential.domain, credential.identity),
        to=cxml.Credential("NetworkID", "TRADELOOM"), currency=currencies.pop(),
        items=[cxml.CartItem(material_code=line.material_code, description=line.description,
                             quantity=line.quantity, unit=line.unit, unit_price=line.quote.unit_price,
                             currency=line.quote.currency, classification=line.quote.rule.value)
               for line in priced])


# -- order request -----------------------------------------------------------------------------------------------

async def take_order(session: AsyncSession, *, match: CredentialMatch, request: cxml.OrderRequest,
                     body: str) -> tuple[PurchaseOrder | None, PunchOutOrder]:
    """The OrderRequest as a submitted purchase order; one already taken (same payloadID or orderID) is
    returned as it was, with None for the order (nothing new is placed)."""
    earlier = await session.scalar(select(PunchOutOrder).where(
        or_(PunchOutOrder.payload_id == request.header.payload_id, PunchOutOrder.order_ref == request.order_id)))
    if earlier is not None:
        return None, earlier
    credential = await session.get(PunchOutCredential, match.credential_id)
    assert credential is not None  # found by the look-up a moment ago, in this transaction
    actor = Actor(org_id=match.org_id)
    try:
        order = await create_order_from_cart(
            session, actor=actor, supplier_org_id=credential.supplier_org_id,
            delivery_site_id=credential.delivery_site_id,
            lines=[CartLine(material_code=item.supplier_part_id, quantity=item.quantity, unit=item.unit)
                   for item in request.items])
    except TradeloomError as exc:
        raise cxml.CxmlError(400, exc.message) from exc
    _check_prices(request, order)
    order.reference = f"cXML {request.order_id}"[:100]
    order = await submit_order(session, actor=actor, order_id=order.id, expected_version=order.version,
                               note=f"cXML OrderRequest {request.order_id}")
    taken = PunchOutOrder(id=uuid.uuid4(), org_id=match.org_id, credential_id=credential.id,
                          payload_id=request.header.payload_id[:250], order_ref=request.order_id[:100],
                          purchase_order_id=order.id, total=order.net_total, request_body=body)
    session.add(taken)
    await flush_or_conflict(session, "This OrderRequest was taken by a concurrent request.", "punchout_order_taken")
    return order, taken


def _check_prices(request: cxml.OrderRequest, order: PurchaseOrder) -> None:
    """The order's currency and net total must be what the procurement system ordered."""
    if request.currency != order.currency:
        raise cxml.CxmlError(400, f"The order is in {request.currency}; the supplier's prices are in "
                                  f"{order.currency}.")
    if request.total != order.net_total:
        agreed = format(order.net_total.normalize(), "f")
        raise cxml.CxmlError(400, f"The order total {request.total} differs from the agreed {agreed} "
                                  f"{order.currency}; punch out again for current prices.")
