"""What became of each record of a bulk job: created, already there (by external id) or rejected."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError


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
