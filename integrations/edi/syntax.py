"""UN/EDIFACT interchange syntax (ISO 9735): read an interchange into messages, write one from segments.

pydifact tokenizes; this module adds what it leaves to the caller: the envelope (UNB/UNZ, UNH/UNT) must be
complete, its counts and references must agree, and the release character may only escape a service
character. Every breach is an :class:`EdiSyntaxError` with an ISO 9735 syntax error code (data element
0085), which is what a CONTRL message reports back.
"""

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser
from pydifact.segments import Segment
from pydifact.serializer import Serializer

Element = str | list[str]
OUTBOUND_CHARACTERS = Characters(decimal_point=".")  # UNA:+.? ' — the decimal mark our amounts use
# No EDIFACT character repertoire (UNOA … UNOY) holds C0 control characters; tab, CR and LF are only the
# layout many partners put between segments. NUL in particular could not even be stored as text.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class SyntaxErrorCode:
    """ISO 9735 data element 0085 values we report."""

    INVALID_VALUE = "12"
    MISSING = "13"
    INVALID_CHARACTER = "21"
    REFERENCES_DO_NOT_MATCH = "28"
    COUNT_DOES_NOT_MATCH = "29"
    UNSPECIFIED = "18"


class EdiSyntaxError(Exception):
    """The interchange breaks the syntax rules; ``message_reference`` names the message when one is at fault."""

    def __init__(self, code: str, detail: str, message: tuple[str, str] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.message = message  # (reference, "TYPE:version:release") of the faulty message


@dataclass(frozen=True)
class Party:
    id: str
    qualifier: str


@dataclass(frozen=True)
class Message:
    """One UNH … UNT message: its reference, type (ORDERS), version (D) and release (96A), and its body."""

    reference: str
    type: str
    version: str
    release: str
    body: list[Segment] = field(default_factory=list)  # the segments between UNH and UNT

    @property
    def directory(self) -> str:
        return f"{self.version}{self.release}"


@dataclass(frozen=True)
class Interchange:
    syntax: str
    sender: Party
    recipient: Party
    control_reference: str
    messages: list[Message]


def element(segment: Segment, position: int, component: int = 0) -> str:
    """The text at ``position`` (0-based data element) and ``component``, or "" when absent."""
    if position >= len(segment.elements):
        return ""
    value = segment.elements[position]
    if isinstance(value, list):
        return value[component] if component < len(value) else ""
    return value if component == 0 else ""


def _service_characters(text: str) -> Characters:
    return Characters.from_str(text[3:9]) if text.startswith("UNA") else Characters()


def _check_release_characters(text: str, characters: Characters) -> None:
    """The release character may only precede a separator, itself or the terminator (ISO 9735 §7)."""
    body = text[9:] if text.startswith("UNA") else text
    escapable = {characters.component_separator, characters.data_separator, characters.escape_character,
                 characters.segment_terminator}
    position = body.find(characters.escape_character)
    while position != -1:
        following = body[position + 1: position + 2]
        if following not in escapable:
            shown = following or "the end of the interchange"
            raise EdiSyntaxError(SyntaxErrorCode.INVALID_CHARACTER,
                                 f"Release character {characters.escape_character!r} at offset {position} is "
                                 f"followed by {shown!r}; it may only precede a service character.")
        position = body.find(characters.escape_character, position + 2)


def _check_control_characters(text: str) -> None:
    found = _CONTROL_CHARACTER.search(text)
    if found is not None:
        raise EdiSyntaxError(SyntaxErrorCode.INVALID_CHARACTER,
                             f"Control character U+{ord(found.group()):04X} at offset {found.start()}: no EDIFACT "
                             f"character set allows it.")


def _segments(text: str) -> list[Segment]:
    _check_control_characters(text)
    characters = _service_characters(text.strip())
    _check_release_characters(text.strip(), characters)
    try:
        with warnings.catch_warnings():  # pydifact warns that it has no segment directory to validate against
            warnings.simplefilter("ignore")
            return [s for s in Parser().parse(text.strip()) if s.tag != "UNA"]
    except (EDISyntaxError, ValueError, IndexError) as exc:
        raise EdiSyntaxError(SyntaxErrorCode.UNSPECIFIED, f"The interchange cannot be tokenized: {exc}") from exc


def _party(segment: Segment, position: int) -> Party:
    party = Party(element(segment, position, 0), element(segment, position, 1))
    if not party.id:
        raise EdiSyntaxError(SyntaxErrorCode.MISSING, f"UNB names no {'sender' if position == 1 else 'recipient'}.")
    return party


def _count(value: str, what: str, message: tuple[str, str] | None = None) -> int:
    if not value.isdigit():
        raise EdiSyntaxError(SyntaxErrorCode.INVALID_VALUE, f"{what} {value!r} is not a number.", message)
    return int(value)


def _identity(header: Segment) -> tuple[str, str]:
    """(reference, "TYPE:version:release") of the message a UNH opens."""
    return element(header, 0), ":".join(element(header, 1, i) for i in range(3))


def _message(segments: list[Segment]) -> Message:
    """One message from its UNH … UNT segments, its trailer checked against it."""
    header, trailer = segments[0], segments[-1]
    identity = _identity(header)
    reference = identity[0]
    if trailer.tag != "UNT":
        raise EdiSyntaxError(SyntaxErrorCode.MISSING, f"Message {reference} has no UNT trailer.", identity)
    if element(trailer, 1) != reference:
        raise EdiSyntaxError(SyntaxErrorCode.REFERENCES_DO_NOT_MATCH,
                             f"UNT reference {element(trailer, 1)!r} does not match UNH reference {reference!r}.",
                             identity)
    declared = _count(element(trailer, 0), "The UNT segment count", identity)
    if declared != len(segments):
        raise EdiSyntaxError(SyntaxErrorCode.COUNT_DOES_NOT_MATCH,
                             f"UNT of message {reference} counts {declared} segments; the message has "
                             f"{len(segments)} (UNH and UNT included).", identity)
    return Message(reference=reference, type=element(header, 1, 0), version=element(header, 1, 1),
                   release=element(header, 1, 2), body=segments[1:-1])


def _split_messages(segments: list[Segment]) -> list[Message]:
    messages: list[Message] = []
    current: list[Segment] | None = None
    for segment in segments:
        if segment.tag == "UNH":
            if current is not None:
                raise EdiSyntaxError(SyntaxErrorCode.MISSING, f"Message {element(current[0], 0)} has no UNT.",
                                     _identity(current[0]))
            current = [segment]
        elif current is None:
            raise EdiSyntaxError(SyntaxErrorCode.MISSING, f"Segment {segment.tag} stands outside any UNH … UNT.")
        else:
            current.append(segment)
            if segment.tag == "UNT":
                messages.append(_message(current))
                current = None
    if current is not None:
        messages.append(_message(current))
    return messages


@dataclass(frozen=True)
class Envelope:
    sender: Party
    recipient: Party
    control_reference: str


def read_envelope(text: str) -> Envelope | None:
    """Who sent an interchange and its reference, read leniently so that a faulty one can still be answered."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            header = next((s for s in Parser().parse(text.strip()) if s.tag != "UNA"), None)
    except (EDISyntaxError, ValueError, IndexError):
        return None
    if header is None or header.tag != "UNB" or not element(header, 1, 0) or not element(header, 4):
        return None
    envelope = Envelope(Party(element(header, 1, 0), element(header, 1, 1)),
                        Party(element(header, 2, 0), element(header, 2, 1)), element(header, 4))
    fields = (envelope.sender.id, envelope.sender.qualifier, envelope.recipient.id, envelope.recipient.qualifier,
              envelope.control_reference)
    readable = not any(_CONTROL_CHARACTER.search(value) for value in fields)
    return envelope if readable else None  # else the CONTRL that answers would repeat the character


def read_interchange(text: str) -> Interchange:
    """Parse and check an interchange; raises :class:`EdiSyntaxError` saying what is wrong and where."""
    segments = _segments(text)
    if not segments or segments[0].tag != "UNB":
        raise EdiSyntaxError(SyntaxErrorCode.MISSING, "The interchange does not start with UNB (after UNA).")
    header, trailer = segments[0], segments[-1]
    if trailer.tag != "UNZ" or len(segments) < 2:
        raise EdiSyntaxError(SyntaxErrorCode.MISSING, "The interchange does not end with UNZ.")
    reference = element(header, 4)
    if not reference:
        raise EdiSyntaxError(SyntaxErrorCode.MISSING, "UNB carries no interchange control reference (0020).")
    if element(trailer, 1) != reference:
        raise EdiSyntaxError(SyntaxErrorCode.REFERENCES_DO_NOT_MATCH,
                             f"UNZ reference {element(trailer, 1)!r} does not match UNB reference {reference!r}.")
    messages = _split_messages(segments[1:-1])
    declared = _count(element(trailer, 0), "The UNZ message count")
    if declared != len(messages):
        raise EdiSyntaxError(SyntaxErrorCode.COUNT_DOES_NOT_MATCH,
                             f"UNZ counts {declared} messages; the interchange holds {len(messages)}.")
    return Interchange(syntax=element(header, 0, 0), sender=_party(header, 1), recipient=_party(header, 2),
                       control_reference=reference, messages=messages)


def write_interchange(*, sender: Party, recipient: Party, control_reference: str, at: dt.datetime,
                      messages: list[tuple[str, str, list[Segment]]]) -> str:
    """An interchange (UNA, UNB … UNZ) of ``(type, directory, body segments)`` messages, counts filled in.

    Text is escaped by pydifact's serializer; UNOC (Latin-1) is declared, and UNOW (UTF-8) when a value
    needs it (Chinese names).
    """
    segments: list[Segment] = []
    for number, (message_type, directory, body) in enumerate(messages, start=1):
        version, release = directory[0], directory[1:]
        segments.append(Segment("UNH", str(number), [message_type, version, release, "UN"]))
        segments.extend(body)
        segments.append(Segment("UNT", str(len(body) + 2), str(number)))
    syntax = "UNOC" if all(_latin1(s) for s in segments) else "UNOW"
    header = Segment("UNB", [syntax, "3"], [sender.id, sender.qualifier], [recipient.id, recipient.qualifier],
                     [at.strftime("%y%m%d"), at.strftime("%H%M")], control_reference)
    trailer = Segment("UNZ", str(len(messages)), control_reference)
    segments = [header, *segments, trailer]
    return Serializer(OUTBOUND_CHARACTERS).serialize(segments, with_una_header=True, break_lines=True)


def _latin1(segment: Segment) -> bool:
    values = [v for e in segment.elements for v in (e if isinstance(e, list) else [e])]
    try:
        "".join(values).encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
