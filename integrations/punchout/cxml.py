"""cXML 1.2 documents: read a PunchOutSetupRequest or OrderRequest safely, write Responses and the
PunchOutOrderMessage. No I/O.

Parsing goes through defusedxml: entity expansion ("billion laughs") and external entities are refused, a DTD
declaration (cXML carries one) is tolerated but never fetched. Anything missing or malformed is a
:class:`CxmlError` with the cXML status code to answer with (400 for a bad document, 401 for credentials).
"""

import datetime as dt
import uuid
import xml.etree.ElementTree as ET  # only to build documents; parsing uses defusedxml
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_DOCUMENT_BYTES = 1_000_000
CXML_VERSION = "1.2.014"
DOCTYPE = f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{CXML_VERSION}/cXML.dtd">'


class CxmlError(Exception):
    """A request we answer with ``<Status code=…>``: ``status`` is the cXML (and HTTP) status code."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Credential:
    domain: str
    identity: str


@dataclass(frozen=True)
class Header:
    payload_id: str
    sender: Credential
    shared_secret: str
    from_: Credential


@dataclass(frozen=True)
class SetupRequest:
    header: Header
    operation: str
    buyer_cookie: str
    browser_form_post_url: str
    user_email: str | None


@dataclass(frozen=True)
class OrderItem:
    line_number: int
    quantity: Decimal
    supplier_part_id: str
    unit_price: Decimal
    unit: str


@dataclass(frozen=True)
class OrderRequest:
    header: Header
    order_id: str
    currency: str
    total: Decimal
    ship_to: str | None
    items: list[OrderItem]


@dataclass(frozen=True)
class CartItem:
    material_code: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    currency: str
    classification: str


def _text(root: ET.Element, path: str, what: str) -> str:
    value = (root.findtext(path) or "").strip()
    if not value:
        raise CxmlError(400, f"{what} is missing ({path}).")
    return value


def _credential(root: ET.Element, party: str) -> Credential:
    node = root.find(f"Header/{party}/Credential")
    if node is None:
        raise CxmlError(400, f"Header/{party}/Credential is missing.")
    return Credential(node.get("domain", "").strip(), _text(node, "Identity", f"{party} Identity"))


def _decimal(value: str | None, what: str) -> Decimal:
    try:
        number = Decimal((value or "").strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise CxmlError(400, f"{what} {value!r} is not a number.")
    return number


def parse(document: bytes) -> tuple[str, ET.Element, Header]:
    """The request's kind (its first Request child's tag), the Request element and the Header."""
    if len(document) > MAX_DOCUMENT_BYTES:
        raise CxmlError(413, f"The cXML document exceeds {MAX_DOCUMENT_BYTES} bytes.")
    try:
        root = fromstring(document, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CxmlError(400, f"The document uses forbidden XML features: {type(exc).__name__}.") from exc
    except ET.ParseError as exc:
        raise CxmlError(400, f"The document is not well-formed XML: {exc}.") from exc
    if root.tag != "cXML":
        raise CxmlError(400, f"The root element is {root.tag!r}, not 'cXML'.")
    request = root.find("Request")
    if request is None or len(request) != 1:
        raise CxmlError(400, "The document holds no Request with exactly one request element.")
    header = Header(payload_id=root.get("payloadID", "").strip(), sender=_credential(root, "Sender"),
                    shared_secret=_text(root, "Header/Sender/Credential/SharedSecret", "SharedSecret"),
                    from_=_credential(root, "From"))
    if not header.payload_id:
        raise CxmlError(400, "The cXML element has no payloadID.")
    return request[0].tag, request[0], header


def setup_request(element: ET.Element, header: Header) -> SetupRequest:
    operation = element.get("operation", "create")
    if operation not in {"create", "edit", "inspect"}:
        raise CxmlError(400, f"PunchOutSetupRequest operation {operation!r} is not supported.")
    url = _text(element, "BrowserFormPost/URL", "BrowserFormPost URL")
    if not url.startswith(("https://", "http://")):
        raise CxmlError(400, "BrowserFormPost URL must be an http(s) URL.")
    email = next((e.text for e in element.findall("Extrinsic") if e.get("name") == "UserEmail"), None)
    return SetupRequest(header=header, operation=operation, buyer_cookie=_text(element, "BuyerCookie", "BuyerCookie"),
                        browser_form_post_url=url, user_email=email)


def order_request(element: ET.Element, header: Header) -> OrderRequest:
    head = element.find("OrderRequestHeader")
    if head is None:
        raise CxmlError(400, "OrderRequestHeader is missing.")
    order_id = head.get("orderID", "").strip()
    if not order_id:
        raise CxmlError(400, "OrderRequestHeader has no orderID.")
    money = head.find("Total/Money")
    if money is None:
        raise CxmlError(400, "OrderRequestHeader/Total/Money is missing.")
    items = [_item(index, item) for index, item in enumerate(element.findall("ItemOut"), start=1)]
    if not items:
        raise CxmlError(400, "The order has no ItemOut.")
    address = head.find("ShipTo/Address")
    return OrderRequest(header=header, order_id=order_id, currency=money.get("currency", "").strip(),
                        total=_decimal(money.text, "Total"), ship_to=address.get("addressID") if address is not None
                        else None, items=items)


def _item(index: int, item: ET.Element) -> OrderItem:
    price = item.find("ItemDetail/UnitPrice/Money")
    return OrderItem(
        line_number=int(item.get("lineNumber") or index) if (item.get("lineNumber") or "").isdigit() else index,
        quantity=_decimal(item.get("quantity"), f"ItemOut {index} quantity"),
        supplier_part_id=_text(item, "ItemID/SupplierPartID", f"ItemOut {index} SupplierPartID"),
        unit_price=_decimal(price.text if price is not None else None, f"ItemOut {index} UnitPrice"),
        unit=_text(item, "ItemDetail/UnitOfMeasure", f"ItemOut {index} UnitOfMeasure"),
    )


def _document(payload_id: str | None = None) -> ET.Element:
    return ET.Element("cXML", {"payloadID": payload_id or f"{uuid.uuid4()}@tradeloom",
                               "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "xml:lang": "en-US"})


def _serialize(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + DOCTYPE + "\n" + ET.tostring(root, encoding="unicode")


def response(status: int, text: str, *, start_page: str | None = None) -> str:
    """A cXML Response: ``<Status code=… text=…>`` and, for a setup, the StartPage URL."""
    root = _document()
    answer = ET.SubElement(root, "Response")
    status_text = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 409: "Conflict", 413: "Request Too Large",
                   422: "Unprocessable Entity"}.get(status, "Error")
    ET.SubElement(answer, "Status", {"code": str(status), "text": status_text}).text = text
    if start_page:
        setup = ET.SubElement(answer, "PunchOutSetupResponse")
        ET.SubElement(ET.SubElement(setup, "StartPage"), "URL").text = start_page
    return _serialize(root)


def order_message(*, buyer_cookie: str, from_: Credential, to: Credential, items: list[CartItem],
                  currency: str) -> str:
    """PunchOutOrderMessage: the cart returned to the procurement system (operationAllowed="edit")."""
    root = _document()
    header = ET.SubElement(root, "Header")
    for party, credential in (("From", to), ("To", from_), ("Sender", to)):  # we speak as the supplier
        node = ET.SubElement(ET.SubElement(header, party), "Credential", {"domain": credential.domain})
        ET.SubElement(node, "Identity").text = credential.identity
    ET.SubElement(header.find("Sender"), "UserAgent").text = "Tradeloom"  # type: ignore[arg-type]
    message = ET.SubElement(ET.SubElement(root, "Message"), "PunchOutOrderMessage")
    ET.SubElement(message, "BuyerCookie").text = buyer_cookie
    message_header = ET.SubElement(message, "PunchOutOrderMessageHeader", {"operationAllowed": "edit"})
    total = sum((item.quantity * item.unit_price for item in items), Decimal(0))
    ET.SubElement(ET.SubElement(message_header, "Total"), "Money", {"currency": currency}).text = _plain(total)
    for item in items:
        _item_in(message, item)
    return _serialize(root)


def _item_in(message: ET.Element, item: CartItem) -> None:
    node = ET.SubElement(message, "ItemIn", {"quantity": _plain(item.quantity)})
    item_id = ET.SubElement(node, "ItemID")
    ET.SubElement(item_id, "SupplierPartID").text = item.material_code
    detail = ET.SubElement(node, "ItemDetail")
    ET.SubElement(ET.SubElement(detail, "UnitPrice"), "Money", {"currency": item.currency}).text = \
        _plain(item.unit_price)
    ET.SubElement(detail, "Description", {"xml:lang": "zh-CN"}).text = item.description
    ET.SubElement(detail, "UnitOfMeasure").text = item.unit
    ET.SubElement(detail, "Classification", {"domain": "Tradeloom"}).text = item.classification


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")
