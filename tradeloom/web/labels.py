"""Labels that reach templates as data (roles, organization and site kinds, navigation).

Listed here with ``N_`` so that Babel's extraction finds them; templates translate them at render time.
"""


def N_(message: str) -> str:
    return message


DYNAMIC_LABELS = (
    N_("org admin"), N_("buyer"), N_("approver"), N_("supplier sales"), N_("warehouse"), N_("finance"),
    N_("auditor"), N_("platform admin"),
    N_("supplier"), N_("both"), N_("logistics provider"), N_("financier"), N_("platform operator"),
    N_("plant"), N_("office"), N_("yard"),
    N_("Dashboard"), N_("Sites"), N_("Audit log"),
)
