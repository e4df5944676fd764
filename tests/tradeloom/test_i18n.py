"""Every string the code and templates show has a Chinese translation."""

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tradeloom.settings import PROJECT_ROOT
from tradeloom.web.i18n import LOCALE_DIR

METHOD_MAP = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
PACKAGES = ("tradeloom", "catalog", "commerce", "ledger", "integrations", "iot_bridge")


def shown_strings() -> set[str]:
    strings: set[str] = set()
    for package in PACKAGES:
        found = extract_from_dir(PROJECT_ROOT / package, METHOD_MAP, keywords={"_": None, "N_": None})
        for _, _, message, _, _ in found:
            strings.add(message if isinstance(message, str) else message[0])
    return strings


def test_every_shown_string_is_translated_to_chinese() -> None:
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file)
    translated = {message.id for message in catalog if message.id and message.string}
    assert sorted(shown_strings() - translated) == []
