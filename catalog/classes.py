"""The material class tree: loading, invariants (unique codes, parents exist, no cycles), proposed edits.

Class codes are two digits per level ("10", "1001", "100101") in the seed data, but a code is stable:
a class moved under another parent keeps its code, because material codes embed it. So the checks here
are about the parent links, not about code prefixes.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from catalog.attributes import (
    AttributeCheck,
    AttributeProblem,
    AttributeProblemCode,
    AttributeSpec,
    AttributeTemplate,
    check_attributes,
    validate_attributes,
)
from catalog.errors import InvalidClassTree

__all__ = [
    "AttributeCheck",
    "AttributeProblem",
    "AttributeProblemCode",
    "AttributeSpec",
    "AttributeTemplate",
    "CatalogClass",
    "ClassTree",
    "TreeProblem",
    "TreeProblemCode",
    "build_tree",
    "change_problems",
    "check_attributes",
    "find_cycles",
    "load_class_tree",
    "parse_classes",
    "tree_problems",
    "validate_attributes",
]

CLASS_CODE_PATTERN = r"^(?:[0-9]{2}){1,4}$"


class CatalogClass(BaseModel):
    """One node of the class tree; leaves carry the attribute template of their materials."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=CLASS_CODE_PATTERN)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    parent: str | None = None
    unspsc: str | None = Field(default=None, pattern=r"^[0-9]{8}$")
    eclass: str | None = Field(default=None, pattern=r"^[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}$")
    gbt7635: str | None = Field(default=None, pattern=r"^[0-9]{2,12}$")
    attributes: AttributeTemplate = AttributeTemplate()

    @field_validator("attributes", mode="before")
    @classmethod
    def _template_from_list(cls, value: Any) -> Any:
        """In JSON a template is written as the plain list of its attributes."""
        return {"attributes": value} if isinstance(value, list | tuple) else value

    @field_serializer("attributes")
    def _template_as_list(self, template: AttributeTemplate) -> list[dict[str, Any]]:
        return [spec.model_dump(mode="json", exclude_none=True) for spec in template.attributes]


class TreeProblemCode(StrEnum):
    DUPLICATE_CODE = "duplicate_code"
    MISSING_PARENT = "missing_parent"
    UNKNOWN_CLASS = "unknown_class"
    CYCLE = "cycle"


@dataclass(frozen=True, slots=True)
class TreeProblem:
    """A broken invariant of the tree; ``cycle`` lists the codes of a cycle, following parent links."""

    code: TreeProblemCode
    class_code: str
    message: str
    cycle: tuple[str, ...] = ()


def _rotated(cycle: list[str]) -> tuple[str, ...]:
    """Start a cycle at its smallest code so that the same cycle is always reported the same way."""
    start = cycle.index(min(cycle))
    return tuple(cycle[start:] + cycle[:start])


def find_cycles(parent_of: Mapping[str, str | None]) -> list[tuple[str, ...]]:
    """Every cycle in the child → parent links, each once, e.g. ("1001", "100101") for a two-node loop.

    Each node has at most one parent, so walking up from every node and remembering the walk finds each
    cycle in linear time.
    """
    cycles: list[tuple[str, ...]] = []
    settled: set[str] = set()
    for start in sorted(parent_of):
        walk: list[str] = []
        seen_at: dict[str, int] = {}
        node: str | None = start
        while node is not None and node in parent_of and node not in settled:
            if node in seen_at:
                cycles.append(_rotated(walk[seen_at[node]:]))
                break
            seen_at[node] = len(walk)
            walk.append(node)
            node = parent_of[node]
        settled.update(walk)
    return cycles


def _link_problems(links: Sequence[tuple[str, str | None]]) -> list[TreeProblem]:
    problems: list[TreeProblem] = []
    parent_of: dict[str, str | None] = {}
    for code, parent in links:
        if code in parent_of:
            problems.append(TreeProblem(TreeProblemCode.DUPLICATE_CODE, code, f"class code {code} is used twice"))
        parent_of[code] = parent
    for code, parent in parent_of.items():
        if parent is not None and parent not in parent_of:
            message = f"class {code} has parent {parent}, which does not exist"
            problems.append(TreeProblem(TreeProblemCode.MISSING_PARENT, code, message))
    for cycle in find_cycles(parent_of):
        loop = " → ".join((*cycle, cycle[0]))
        problems.append(TreeProblem(TreeProblemCode.CYCLE, cycle[0], f"classes form a cycle: {loop}", cycle))
    return problems


def tree_problems(classes: Iterable[CatalogClass]) -> list[TreeProblem]:
    """Duplicate codes, parents that do not exist and cycles in a whole list of classes."""
    return _link_problems([(node.code, node.parent) for node in classes])


@dataclass(frozen=True)
class ClassTree:
    """A validated class tree; build it with ``build_tree`` or ``load_class_tree``."""

    classes: Mapping[str, CatalogClass]
    _children: Mapping[str | None, tuple[str, ...]] = field(repr=False)

    def get(self, code: str) -> CatalogClass | None:
        """The class with this code, if any."""
        return self.classes.get(code)

    def children(self, code: str | None) -> list[CatalogClass]:
        """Direct children of a class (of the root when ``code`` is None), in code order."""
        return [self.classes[child] for child in self._children.get(code, ())]

    def roots(self) -> list[CatalogClass]:
        """The top-level groups."""
        return self.children(None)

    def is_leaf(self, code: str) -> bool:
        """Materials are classified only under leaves."""
        return code in self.classes and not self._children.get(code)

    def leaves(self) -> list[CatalogClass]:
        """All leaf classes in code order."""
        return [node for code, node in sorted(self.classes.items()) if not self._children.get(code)]

    def path(self, code: str) -> list[CatalogClass]:
        """The classes from the top-level group down to ``code`` (empty for an unknown code)."""
        chain: list[CatalogClass] = []
        node = self.classes.get(code)
        while node is not None:
            chain.append(node)
            node = self.classes.get(node.parent) if node.parent else None
        return chain[::-1]

    def descendants(self, code: str) -> list[CatalogClass]:
        """Everything under a class, depth first."""
        found: list[CatalogClass] = []
        for child in self.children(code):
            found += [child, *self.descendants(child.code)]
        return found


def build_tree(classes: Iterable[CatalogClass]) -> ClassTree:
    """A ``ClassTree`` from classes, or ``InvalidClassTree`` listing every broken invariant."""
    nodes = list(classes)
    problems = tree_problems(nodes)
    if problems:
        errors = [{"code": p.code.value, "class": p.class_code, "detail": p.message} for p in problems]
        raise InvalidClassTree(f"The class tree has {len(problems)} problem(s).", errors=errors)
    children: dict[str | None, list[str]] = {}
    for node in sorted(nodes, key=lambda n: n.code):
        children.setdefault(node.parent, []).append(node.code)
    return ClassTree(
        classes={node.code: node for node in nodes},
        _children={parent: tuple(codes) for parent, codes in children.items()},
    )


def change_problems(
    tree: ClassTree, *, reparent: Mapping[str, str | None] | None = None,
    add: Sequence[CatalogClass] = (), remove: Collection[str] = (),
) -> list[TreeProblem]:
    """What a proposed edit would break: moves (code → new parent), new classes and removed classes.

    Nothing is changed; the caller applies the edit only when this returns no problems.
    """
    moves = reparent or {}
    unknown = [code for code in (*moves, *remove) if code not in tree.classes]
    problems = [
        TreeProblem(TreeProblemCode.UNKNOWN_CLASS, code, f"class {code} does not exist") for code in unknown
    ]
    links = [
        (code, moves.get(code, node.parent)) for code, node in tree.classes.items() if code not in remove
    ]
    links += [(node.code, node.parent) for node in add]
    return problems + _link_problems(links)


class _ClassDocument(BaseModel):
    """The JSON file: a note on sources and the flat list of classes (parents by code)."""

    about: str = ""
    classes: list[CatalogClass]


def parse_classes(document: bytes | str) -> list[CatalogClass]:
    """Classes from a JSON document shaped like ``catalog/data/classes.json``."""
    return _ClassDocument.model_validate_json(document).classes


@cache
def load_class_tree() -> ClassTree:
    """The seed class tree shipped with the package (validated once, then cached)."""
    document = resources.files("catalog.data").joinpath("classes.json").read_bytes()
    return build_tree(parse_classes(document))
