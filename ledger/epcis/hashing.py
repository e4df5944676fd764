"""The CBV 2.0 event hash (§8.9): a syntax-independent fingerprint ``ni:///sha-256;<hex>?ver=CBV2.0``.

The pre-hash string concatenates, without separators, ``eventType=…`` and then the standard fields in the
canonical order below, each as ``name=value`` (structures as ``name`` followed by their parts). Values are
normalised first: times to UTC with milliseconds, numbers without trailing zeros, EPCs to canonical GS1
Digital Links, CBV words to web URIs (``shipping`` → ``https://ref.gs1.org/cbv/BizStep-shipping``).
Repeated elements are sorted lexically; user extensions (``{namespace}name=value``) come last, sorted.
``eventID``, ``recordTime``, ``errorDeclaration`` and ``certificationInfo`` do not take part.
The result is checked against the published examples of GS1's reference implementation (see the tests).
"""

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ledger.epcis.epc import canonical_epc

CBV = "https://ref.gs1.org/cbv/"
DEFAULT_PREFIXES = {"gs1": "https://gs1.org/voc/", "cbv": CBV}
NOT_HASHED = frozenset({"type", "eventID", "recordTime", "errorDeclaration", "certificationInfo", "@context"})
_URN_VOCABULARY = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-", "urn:epcglobal:cbv:disp:": "Disp-",
    "urn:epcglobal:cbv:btt:": "BTT-", "urn:epcglobal:cbv:sdt:": "SDT-", "urn:epcglobal:cbv:er:": "ER-",
}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SENSOR_METADATA = ("time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
                    "dataProcessingMethod", "bizRules")
_SENSOR_REPORT = ("type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
                  "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
                  "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank",
                  "percValue", "uom", "coordinateReferenceSystem")


def event_hash(event: Mapping[str, Any], prefixes: Mapping[str, str] | None = None) -> str:
    """The CBV 2.0 hash of one EPCIS 2.0 JSON-LD event; ``prefixes`` are the document's @context CURIEs."""
    digest = hashlib.sha256(pre_hash_string(event, prefixes).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def pre_hash_string(event: Mapping[str, Any], prefixes: Mapping[str, str] | None = None) -> str:
    names = {**DEFAULT_PREFIXES, **(prefixes or {})}
    parts = [f"eventType={event['type']}"]
    for field, render in _ORDER:
        if event.get(field) not in (None, "", [], {}):
            parts.append(render(field, event[field]))
    extensions = [_generic(_expand(key, names), value, names)
                  for key, value in event.items() if key not in NOT_HASHED and key not in _ORDERED]
    for location in ("readPoint", "bizLocation"):
        if isinstance(event.get(location), Mapping):
            leftover = {k: v for k, v in event[location].items() if k != "id"}
            if leftover:
                extensions.append(location + "".join(sorted(_generic(_expand(k, names), v, names)
                                                            for k, v in leftover.items())))
    return "".join(parts) + "".join(sorted(extensions))


def utc_millis(timestamp: str) -> str:
    """``2022-02-16T20:33:31.116000-06:00`` → ``2022-02-17T02:33:31.116Z``."""
    moment = dt.datetime.fromisoformat(timestamp.strip()).astimezone(dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def canonical_value(value: Any) -> str:
    """Generic normalisation: CBV URNs to web URIs, numbers without trailing zeros, EPCs canonical."""
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    for urn, word in _URN_VOCABULARY.items():
        if text.startswith(urn):
            return CBV + word + text.removeprefix(urn)
    if _NUMBER.match(text):
        return _number(text)
    return canonical_epc(text)


def _number(text: str) -> str:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


def _vocabulary(word: str, prefix: str) -> str:
    """A bare CBV word (``shipping``) as its web URI; URNs and URIs normalised or kept."""
    word = word.strip()
    if ":" not in word:
        return CBV + prefix + word
    return canonical_value(word)


def _expand(key: str, prefixes: Mapping[str, str]) -> str:
    """``example:userExt`` → ``{https://ns.example.com/epcis/}userExt`` using the document's context."""
    prefix, colon, local = key.partition(":")
    if colon and prefix in prefixes and not local.startswith("//"):
        return "{" + prefixes[prefix] + "}" + local
    return key


def _generic(name: str, value: Any, prefixes: Mapping[str, str]) -> str:
    if isinstance(value, Mapping):
        return name + "".join(sorted(_generic(_expand(k, prefixes), v, prefixes) for k, v in value.items()))
    if isinstance(value, list):
        return "".join(sorted(_generic(name, item, prefixes) for item in value))
    if "time" in name.lower() and "offset" not in name.lower() and isinstance(value, str):
        try:
            return f"{name}={utc_millis(value)}"
        except ValueError:
            pass
    return f"{name}={canonical_value(value)}"


def _scalar(field: str, value: Any) -> str:
    return f"{field}={str(value).strip()}"


def _time(field: str, value: Any) -> str:
    try:
        return f"{field}={utc_millis(str(value))}"
    except ValueError:
        return f"{field}={canonical_value(value)}"


def _epc(field: str, value: Any) -> str:
    return f"{field}={canonical_epc(str(value))}"


def _epc_list(field: str, value: list[str]) -> str:
    return field + "".join(sorted(f"epc={canonical_epc(epc)}" for epc in value))


def _quantity_list(field: str, value: list[Mapping[str, Any]]) -> str:
    def element(quantity: Mapping[str, Any]) -> str:
        text = f"epcClass={canonical_epc(str(quantity['epcClass']))}"
        if quantity.get("quantity") is not None:
            text += f"quantity={_number(str(quantity['quantity']))}"
        if quantity.get("uom"):
            text += f"uom={quantity['uom']}"
        return "quantityElement" + text

    return field + "".join(sorted(element(q) for q in value))


def _vocab(prefix: str) -> Callable[[str, Any], str]:
    return lambda field, value: f"{field}={_vocabulary(str(value), prefix)}"


def _persistent_disposition(field: str, value: Mapping[str, list[str]]) -> str:
    return field + "".join("".join(sorted(f"{part}={_vocabulary(d, 'Disp-')}" for d in value.get(part) or []))
                           for part in ("set", "unset"))


def _location(field: str, value: Mapping[str, Any]) -> str:
    return f"{field}id={canonical_epc(str(value['id']))}" if value.get("id") else ""


def _typed_list(item_key: str, type_prefix: str) -> Callable[[str, Any], str]:
    def render(field: str, value: list[Mapping[str, Any]]) -> str:
        def element(item: Mapping[str, Any]) -> str:
            text = f"{item_key}={canonical_value(item[item_key])}"
            return text + (f"type={_vocabulary(str(item['type']), type_prefix)}" if item.get("type") else "")

        return field + "".join(sorted(element(item) for item in value))

    return render


def _ordered(name: str, value: Mapping[str, Any], order: tuple[str, ...]) -> str:
    parts = []
    for key in order:
        if value.get(key) not in (None, ""):
            timed = key.lower().endswith("time")
            parts.append(_time(key, value[key]) if timed else f"{key}={canonical_value(value[key])}")
    return name + "".join(parts)


def _sensor_elements(field: str, value: list[Mapping[str, Any]]) -> str:
    def element(sensor: Mapping[str, Any]) -> str:
        text = _ordered("sensorMetadata", sensor["sensorMetadata"], _SENSOR_METADATA) \
            if sensor.get("sensorMetadata") else ""
        reports = sorted(_ordered("sensorReport", r, _SENSOR_REPORT) for r in sensor.get("sensorReport") or [])
        return "sensorElement" + text + "".join(reports)

    return field + "".join(sorted(element(sensor) for sensor in value))


_ORDER: tuple[tuple[str, Callable[[str, Any], str]], ...] = (
    ("eventTime", _time), ("eventTimeZoneOffset", _scalar), ("epcList", _epc_list), ("parentID", _epc),
    ("inputEPCList", _epc_list), ("childEPCs", _epc_list), ("quantityList", _quantity_list),
    ("childQuantityList", _quantity_list), ("inputQuantityList", _quantity_list), ("outputEPCList", _epc_list),
    ("outputQuantityList", _quantity_list), ("action", _scalar), ("transformationID", _scalar),
    ("bizStep", _vocab("BizStep-")), ("disposition", _vocab("Disp-")),
    ("persistentDisposition", _persistent_disposition), ("readPoint", _location), ("bizLocation", _location),
    ("bizTransactionList", _typed_list("bizTransaction", "BTT-")), ("sourceList", _typed_list("source", "SDT-")),
    ("destinationList", _typed_list("destination", "SDT-")), ("sensorElementList", _sensor_elements),
)
_ORDERED = frozenset(field for field, _ in _ORDER)
