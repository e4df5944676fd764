"""Babel message catalogues (zh_CN, en) loaded from the .po files at startup; the request's locale.

Catalogues are compiled in memory from ``tradeloom/locale/<locale>/LC_MESSAGES/messages.po`` so no build
step is needed; `make i18n` re-extracts the strings from the code and templates.
"""

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALES = ("zh_CN", "en")
LOCALE_COOKIE = "tl_locale"


def load_translations() -> dict[str, NullTranslations]:
    """Every supported locale's translations, by locale code."""
    loaded: dict[str, NullTranslations] = {}
    for locale in LOCALES:
        po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        loaded[locale] = Translations(buffer)
    return loaded


def request_locale(request: Request, default: str) -> str:
    """The cookie's choice, else the browser's preference, else the platform default."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    accept = request.headers.get("accept-language", "").lower()
    for part in accept.split(","):
        tag = part.split(";")[0].strip()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default if default in LOCALES else "zh_CN"
