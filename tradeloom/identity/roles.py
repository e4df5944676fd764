"""Organization kinds, membership roles and the named permissions each role grants."""

from enum import StrEnum


class OrgKind(StrEnum):
    BUYER = "buyer"
    SUPPLIER = "supplier"
    BOTH = "both"
    LOGISTICS_PROVIDER = "logistics_provider"
    FINANCIER = "financier"
    PLATFORM_OPERATOR = "platform_operator"


class Role(StrEnum):
    ORG_ADMIN = "org_admin"
    BUYER = "buyer"
    APPROVER = "approver"
    SUPPLIER_SALES = "supplier_sales"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    AUDITOR = "auditor"
    PLATFORM_ADMIN = "platform_admin"


class Permission(StrEnum):
    ORG_MANAGE = "org.manage"
    MEMBERS_MANAGE = "members.manage"
    API_KEYS_MANAGE = "api_keys.manage"
    SITES_READ = "sites.read"
    SITES_WRITE = "sites.write"
    AUDIT_READ = "audit.read"
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    OFFERS_MANAGE = "offers.manage"
    RFQ_MANAGE = "rfq.manage"
    QUOTATION_SUBMIT = "quotation.submit"
    CONTRACT_SIGN = "contract.sign"
    ORDER_CREATE = "order.create"
    ORDER_APPROVE = "order.approve"
    ORDER_CONFIRM = "order.confirm"
    SHIPMENT_MANAGE = "shipment.manage"
    GOODS_RECEIPT = "goods_receipt.create"
    STOCK_MANAGE = "stock.manage"
    INVOICE_ISSUE = "invoice.issue"
    INVOICE_APPROVE = "invoice.approve"
    PAYMENT_MANAGE = "payment.manage"
    FINANCE_OFFER = "finance.offer"
    LEDGER_READ = "ledger.read"
    IDENTIFIERS_MANAGE = "identifiers.manage"
    EPCIS_CAPTURE = "epcis.capture"
    EVIDENCE_REGISTER = "evidence.register"
    INTEGRATION_MANAGE = "integration.manage"
    CHANGES_READ = "changes.read"
    DEVICES_MANAGE = "devices.manage"
    DEVICES_READ = "devices.read"
    PLATFORM_MANAGE = "platform.manage"


_READ = {Permission.SITES_READ, Permission.CATALOG_READ, Permission.LEDGER_READ, Permission.DEVICES_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ORG_ADMIN: frozenset(
        _READ | {
            Permission.ORG_MANAGE, Permission.MEMBERS_MANAGE, Permission.API_KEYS_MANAGE,
            Permission.SITES_WRITE, Permission.AUDIT_READ, Permission.INTEGRATION_MANAGE, Permission.CHANGES_READ,
            Permission.DEVICES_MANAGE, Permission.CONTRACT_SIGN, Permission.IDENTIFIERS_MANAGE,
            Permission.EPCIS_CAPTURE, Permission.EVIDENCE_REGISTER,
        }
    ),
    Role.BUYER: frozenset(_READ | {Permission.RFQ_MANAGE, Permission.ORDER_CREATE, Permission.CATALOG_WRITE}),
    Role.APPROVER: frozenset(_READ | {Permission.ORDER_APPROVE, Permission.CONTRACT_SIGN}),
    Role.SUPPLIER_SALES: frozenset(
        _READ | {
            Permission.OFFERS_MANAGE, Permission.QUOTATION_SUBMIT, Permission.ORDER_CONFIRM,
            Permission.CATALOG_WRITE, Permission.CONTRACT_SIGN, Permission.INVOICE_ISSUE,
            Permission.IDENTIFIERS_MANAGE, Permission.EPCIS_CAPTURE, Permission.EVIDENCE_REGISTER,
        }
    ),
    Role.WAREHOUSE: frozenset(
        _READ | {
            Permission.SHIPMENT_MANAGE, Permission.GOODS_RECEIPT, Permission.STOCK_MANAGE,
            Permission.IDENTIFIERS_MANAGE, Permission.EPCIS_CAPTURE, Permission.EVIDENCE_REGISTER,
        }
    ),
    Role.FINANCE: frozenset(
        _READ | {
            Permission.INVOICE_ISSUE, Permission.INVOICE_APPROVE, Permission.PAYMENT_MANAGE,
            Permission.FINANCE_OFFER,
        }
    ),
    Role.AUDITOR: frozenset(_READ | {Permission.AUDIT_READ, Permission.CHANGES_READ}),
    Role.PLATFORM_ADMIN: frozenset(Permission),
}


def permissions_for(roles: list[str] | tuple[str, ...]) -> frozenset[Permission]:
    """The union of what the given roles grant; unknown role names grant nothing."""
    granted: set[Permission] = set()
    for role in roles:
        if role in Role._value2member_map_:
            granted |= ROLE_PERMISSIONS[Role(role)]
    return frozenset(granted)
