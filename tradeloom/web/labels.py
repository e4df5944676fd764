"""Display names for values that reach templates as data: roles, organization kinds, site kinds.

Marked with ``N_`` so that Babel's extraction finds them; templates translate them when rendering
(``{{ _(role_label(role)) }}``). The same word can need two translations (采购员 the role, 采购商 the
company), which is why roles and kinds have labels of their own.
"""


def N_(message: str) -> str:  # the gettext convention: mark for extraction, translate later
    return message


ROLE_LABELS = {
    "org_admin": N_("Organization admin"), "buyer": N_("Purchasing agent"), "approver": N_("Approver"),
    "supplier_sales": N_("Supplier sales"), "warehouse": N_("Warehouse"), "finance": N_("Finance"),
    "auditor": N_("Auditor"), "platform_admin": N_("Platform admin"),
}
ORG_KIND_LABELS = {
    "buyer": N_("Buying company"), "supplier": N_("Supplying company"), "both": N_("Buyer and supplier"),
    "logistics_provider": N_("Logistics provider"), "financier": N_("Financier"),
    "platform_operator": N_("Platform operator"),
}
SITE_KIND_LABELS = {"plant": N_("Plant"), "warehouse": N_("Warehouse"), "office": N_("Office"), "yard": N_("Yard")}


def label_helpers() -> dict[str, object]:
    """Template globals that turn a stored value into its (untranslated) display name."""
    return {
        "role_label": lambda value: ROLE_LABELS.get(value, value),
        "org_kind_label": lambda value: ORG_KIND_LABELS.get(value, value),
        "site_kind_label": lambda value: SITE_KIND_LABELS.get(value, value),
    }
