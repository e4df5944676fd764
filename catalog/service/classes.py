"""Browsing the class tree as stored (``material_classes``), and the template a leaf gives its materials."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.attributes import AttributeTemplate
from catalog.models import MaterialClass
from tradeloom.errors import Invalid, NotFound


@dataclass(frozen=True)
class ClassView:
    """One class with its path from the top-level group and its direct children."""

    node: MaterialClass
    path: list[MaterialClass]
    children: list[MaterialClass]

    @property
    def template(self) -> AttributeTemplate:
        return template_of(self.node)


def template_of(node: MaterialClass) -> AttributeTemplate:
    """The attribute template stored on a class (empty for groups)."""
    return AttributeTemplate.model_validate({"attributes": node.attribute_template or []})


async def root_classes(session: AsyncSession) -> list[MaterialClass]:
    """The top-level groups, in code order."""
    query = select(MaterialClass).where(MaterialClass.parent_code.is_(None)).order_by(MaterialClass.code)
    return list((await session.scalars(query)).all())


async def get_class(session: AsyncSession, *, code: str) -> ClassView:
    """A class, its path and its children; 404 for an unknown code."""
    node = await session.get(MaterialClass, code)
    if node is None:
        raise NotFound(f"There is no material class {code!r}.", code="catalog.class_not_found")
    path = [node]
    while path[0].parent_code is not None:
        parent = await session.get(MaterialClass, path[0].parent_code)
        if parent is None:  # the foreign key makes this impossible; stop rather than loop
            break
        path.insert(0, parent)
    children = select(MaterialClass).where(MaterialClass.parent_code == code).order_by(MaterialClass.code)
    return ClassView(node=node, path=path, children=list((await session.scalars(children)).all()))


async def leaf_class(session: AsyncSession, code: str) -> MaterialClass:
    """The leaf class materials are classified under; 422 for unknown or non-leaf codes (bad input)."""
    node = await session.get(MaterialClass, code)
    if node is None:
        raise Invalid(f"There is no material class {code!r}.", code="catalog.unknown_class",
                      errors=[{"pointer": "/class_code", "detail": "unknown class"}])
    if not node.is_leaf:
        raise Invalid(f"Class {code} ({node.name_en}) is a group; classify the material under one of its leaves.",
                      code="catalog.class_not_leaf", errors=[{"pointer": "/class_code", "detail": "not a leaf"}])
    return node


async def class_and_descendants(session: AsyncSession, code: str) -> list[str]:
    """``code`` and every class below it (parents are links, not code prefixes, so walk the links)."""
    rows = (await session.execute(select(MaterialClass.code, MaterialClass.parent_code))).all()
    children: dict[str | None, list[str]] = {}
    for child, parent in rows:
        children.setdefault(parent, []).append(child)
    found, pending = [], [code]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found
