"""Helpers for HTML forms: their fields as strings, one-file uploads, and the reasons a submission was refused."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from tradeloom.errors import TradeloomError
from tradeloom.transaction import TransactionScope

FormAction = Callable[[AsyncSession, Any], Awaitable[None]]
ShowAgain = Callable[[AsyncSession, list[str], int], Awaitable[Response]]
# A page renderer as the page modules write them: page(request, principal, session, errors, status)
PageRenderer = Callable[[Request, Any, AsyncSession, list[str], int], Awaitable[Response]]


async def form_fields(request: Request) -> dict[str, str]:
    """The submitted fields (single values), without the CSRF token."""
    return {key: str(value) for key, value in (await request.form()).items() if key != "csrf_token"}


async def upload_form(request: Request, *, max_fields: int) -> FormData:
    """The form of a one-file upload with at most ``max_fields`` other fields; ``MultiPartException`` when it
    is malformed or holds more.

    The limits are checked on the form as parsed too: the CSRF check or the idempotency guard may have read
    it first with Starlette's defaults (1,000 of each), and a request's form is parsed only once.
    """
    try:
        form = await request.form(max_files=1, max_fields=max_fields)
    except HTTPException as exc:  # inside an app, Starlette's parser answers its refusal with a 400
        raise MultiPartException(str(exc.detail)) from exc
    files = sum(isinstance(value, UploadFile) for _, value in form.multi_items())
    if files > 1 or len(form.multi_items()) - files > max_fields:
        raise MultiPartException(f"Send one file and at most {max_fields} other fields.")
    return form


def form_errors(exc: ValidationError | TradeloomError) -> list[str]:
    """One line per problem, naming the field where there is one."""
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()]
    return [exc.message]


def form_version(value: object) -> int:
    """The version a form was rendered with (a hidden field); anything else is 0, which no row has (412)."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) <= 18 else 0


async def run_form_action(
    request: Request, tx: TransactionScope, action: FormAction, *, done_url: str, show_again: ShowAgain
) -> Response:
    """Run one form action: on success go to ``done_url``; a refusal rolls back and shows the page again
    with the reasons and the refusal's own status (422 for a form that does not validate)."""
    try:
        await action(await tx.session(), await request.form())
    except (ValidationError, TradeloomError) as exc:
        await tx.abandon()
        status = exc.status if isinstance(exc, TradeloomError) else 422
        return await show_again(await tx.session(), form_errors(exc), status)
    return RedirectResponse(done_url, status_code=303)


def show_page_again(page: PageRenderer, request: Request, principal: Any) -> ShowAgain:
    """``show_again`` for ``run_form_action`` that renders ``page`` for this request and principal."""
    async def show(session: AsyncSession, errors: list[str], status: int) -> Response:
        return await page(request, principal, session, errors, status)
    return show
