"""What became of each record of a bulk job: created, already there (by external id) or rejected."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tradeloom.errors import TradeloomError


@dataclass(frozen=True)
class Problem:
    """Why a record was refused: the field (a JSON pointer inside the record), a stable code, a message."""

    pointer: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "message": self.message}


@dataclass
class Outcomes:
    """Results by record index; every record ends with exactly one."""

    created: dict[int, uuid.UUID] = field(default_factory=dict)
    existing: dict[int, uuid.UUID] = field(default_factory=dict)
    rejected: dict[int, list[Problem]] = field(default_factory=dict)

    def reject(self, index: int, problem: Problem) -> None:
        self.rejected.setdefault(index, []).append(problem)

    def report(self, external_ids: list[str | None]) -> list[dict[str, Any]]:
        """One entry per record, in request order."""
        entries: list[dict[str, Any]] = []
        for index, external_id in enumerate(external_ids):
            entry: dict[str, Any] = {"index": index, "external_id": external_id}
            if index in self.rejected:
                entry |= {"status": "rejected", "problems": [p.as_dict() for p in self.rejected[index]]}
            elif index in self.created:
                entry |= {"status": "created", "object_id": str(self.created[index])}
            else:
                entry |= {"status": "existing", "object_id": str(self.existing[index])}
            entries.append(entry)
        return entries


def validation_problems(exc: ValidationError) -> list[Problem]:
    """Pydantic's complaints about one record, pointed at its fields."""
    return [Problem("/" + "/".join(map(str, error["loc"])), error["type"], error["msg"]) for error in exc.errors()]


def refused_pointer(refused: TradeloomError) -> str:
    """The first field the refusing module named (``/lines/2``), or the record itself."""
    return str(refused.errors[0].get("pointer", "")) if refused.errors else ""


async def write_one(session: AsyncSession, outcomes: Outcomes, index: int,
                    write: Callable[[], Awaitable[uuid.UUID]]) -> None:
    """Write one record in a savepoint of its own: a refusal rolls back only that record and is reported."""
    try:
        async with session.begin_nested():
            outcomes.created[index] = await write()
    except TradeloomError as refused:
        outcomes.reject(index, Problem(refused_pointer(refused), refused.code, refused.message))
