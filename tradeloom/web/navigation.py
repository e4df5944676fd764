"""The navigation bar: items are registered by each package (at composition) and shown by role."""

from dataclasses import dataclass

from tradeloom.identity.roles import OrgKind, Permission

ALL_KINDS = frozenset(OrgKind)


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # English source string, translated when rendered
    permission: Permission | frozenset[Permission] | None = None  # a set: any one of them
    org_kinds: frozenset[OrgKind] = ALL_KINDS
    order: int = 100


_items: list[NavItem] = []


def add_nav_item(item: NavItem) -> None:
    if item not in _items:
        _items.append(item)
        _items.sort(key=lambda nav: nav.order)


def nav_for(org_kind: str, permissions: frozenset[Permission]) -> list[NavItem]:
    """The items a member of this kind of organization with these permissions may open."""
    return [item for item in _items if org_kind in item.org_kinds and _permitted(item.permission, permissions)]


def _permitted(needed: Permission | frozenset[Permission] | None, permissions: frozenset[Permission]) -> bool:
    if needed is None:
        return True
    return not permissions.isdisjoint(needed) if isinstance(needed, frozenset) else needed in permissions
