"""Jinja2 environment shared by every package's pages, with per-request gettext and CSRF token."""

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from tradeloom.auth import Principal
from tradeloom.identity.credentials import csrf_token_for
from tradeloom.web.i18n import request_locale
from tradeloom.web.labels import label_helpers
from tradeloom.web.navigation import nav_for

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
_template_dirs: list[FileSystemLoader] = [FileSystemLoader(WEB_DIR / "templates")]
_loader = ChoiceLoader(_template_dirs)
environment = Environment(loader=_loader, autoescape=select_autoescape(), enable_async=False)
environment.globals.update(label_helpers())


def add_template_dir(directory: Path) -> None:
    """Let a package's own ``templates/`` folder be found (its names should be prefixed by the package)."""
    loader = FileSystemLoader(directory)
    if all(existing.searchpath != loader.searchpath for existing in _template_dirs):
        _template_dirs.append(loader)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *,
    principal: Principal | None = None, status_code: int = 200, csrf: str | None = None,
) -> HTMLResponse:
    """Render a page in the request's language with the layout's navigation and CSRF token."""
    settings = request.app.state.settings
    locale = request_locale(request, settings.default_locale)
    translations = request.app.state.translations[locale]
    if csrf is None and principal is not None and principal.session_token:
        csrf = csrf_token_for(principal.session_token, secret=request.app.state.signing_secret)
    page_context = {
        "request": request, "principal": principal, "locale": locale, "csrf_token": csrf,
        "_": translations.gettext, "ngettext": translations.ngettext,
        "nav": nav_for(principal.org_kind, principal.permissions) if principal else [],
        "lang_html": "zh-CN" if locale == "zh_CN" else "en",
    }
    html = environment.get_template(template).render(page_context | (context or {}))
    return HTMLResponse(html, status_code=status_code)
