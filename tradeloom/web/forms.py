"""Helpers for HTML forms: their fields as strings, and the reasons a submission was refused."""

from fastapi import Request
from pydantic import ValidationError

from tradeloom.errors import TradeloomError


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted fields (single values), without the CSRF token."""
    return {key: str(value) for key, value in (await request.form()).items() if key != "csrf_token"}


def form_errors(exc: ValidationError | TradeloomError) -> list[str]:
    """One line per problem, naming the field where there is one."""
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()]
    return [exc.message]
