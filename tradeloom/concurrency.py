"""Optimistic concurrency over HTTP: ``ETag`` carries a row's version, ``If-Match`` must name it on writes."""

import re
from typing import Annotated

from fastapi import Depends, Header, Response

from tradeloom.errors import Invalid, PreconditionFailed, PreconditionRequired

_ETAG = re.compile(r'^(?:W/)?"(\d{1,18})"$')


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def required_version(if_match: Annotated[str | None, Header()] = None) -> int:
    """The version the client last saw, from ``If-Match`` (428 when absent: no blind overwrites)."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you last read.", code="if_match_required")
    match = _ETAG.match(if_match.strip())
    if match is None:
        raise Invalid("If-Match must be one ETag as returned by a read, e.g. \"3\".", code="if_match_malformed")
    return int(match.group(1))


def check_version(current: int, expected: int) -> None:
    """412 when the stored row moved on since the client read it."""
    if current != expected:
        raise PreconditionFailed(
            f"The resource was changed by someone else (now version {current}, you sent {expected}); "
            "read it again and reapply your change.",
            code="version_conflict", headers={"ETag": etag(current)},
        )


ExpectedVersion = Annotated[int, Depends(required_version)]
