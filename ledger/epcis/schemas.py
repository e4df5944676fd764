"""EPCIS 2.0 documents in the JSON-LD binding: an ``EPCISDocument`` whose ``epcisBody.eventList`` holds
Object, Aggregation, Transaction, Transformation and Association events (what / when / where / why / how).

Standard fields are typed; user extensions are allowed only as namespaced keys (``example:myField``), so a
misspelt standard field is an error rather than a silent extension.
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from tradeloom.schemas import ApiModel

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
Uri = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")]
Word = Annotated[str, Field(min_length=1, max_length=300, pattern=r"^\S+$")]
Action = Literal["ADD", "OBSERVE", "DELETE"]


def _iso_text(value: Any) -> Any:
    """Timestamps are ISO 8601 text in EPCIS JSON, never bare numbers (which pydantic would read as epochs)."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    dt.datetime.fromisoformat(value)  # the form the event hash reads; a ValueError here is a 422
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class EpcisModel(BaseModel):
    """Standard fields typed; any other key must be a namespaced extension (``prefix:name`` or a URI)."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="after")
    def _extensions_are_namespaced(self) -> "EpcisModel":
        for key in self.model_extra or {}:
            if ":" not in key and not key.startswith("@"):
                raise ValueError(f"unknown field {key!r} (extensions need a namespace prefix, e.g. 'ex:{key}')")
        return self


class QuantityElement(EpcisModel):
    epcClass: Uri
    quantity: Decimal | None = Field(default=None, ge=0)
    uom: str | None = Field(default=None, pattern=r"^[A-Z0-9]{2,3}$", description="UN/CEFACT Rec 20 code")


class Location(EpcisModel):
    id: Uri


class BizTransaction(EpcisModel):
    type: Word | None = None
    bizTransaction: Uri


class Source(EpcisModel):
    type: Word
    source: Uri


class Destination(EpcisModel):
    type: Word
    destination: Uri


class PersistentDisposition(EpcisModel):
    set: list[Word] | None = None
    unset: list[Word] | None = None


class SensorElement(EpcisModel):
    sensorMetadata: dict[str, Any] | None = None
    sensorReport: list[dict[str, Any]] = Field(min_length=1)


class ErrorDeclaration(EpcisModel):
    declarationTime: Timestamp
    reason: Word | None = None
    correctiveEventIDs: list[Uri] | None = None


class EventBase(EpcisModel):
    eventID: Uri | None = Field(default=None, max_length=200)
    eventTime: Timestamp
    eventTimeZoneOffset: str = Field(pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")
    recordTime: Timestamp | None = None
    errorDeclaration: ErrorDeclaration | None = None
    certificationInfo: Uri | list[Uri] | None = None
    bizStep: Word | None = None
    disposition: Word | None = None
    persistentDisposition: PersistentDisposition | None = None
    readPoint: Location | None = None
    bizLocation: Location | None = None
    bizTransactionList: list[BizTransaction] | None = None
    sourceList: list[Source] | None = None
    destinationList: list[Destination] | None = None
    sensorElementList: list[SensorElement] | None = None


class ObjectEvent(EventBase):
    type: Literal["ObjectEvent"]
    action: Action
    epcList: list[Uri] = Field(default_factory=list)
    quantityList: list[QuantityElement] = Field(default_factory=list)
    ilmd: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _has_what(self) -> "ObjectEvent":
        if not self.epcList and not self.quantityList:
            raise ValueError("an ObjectEvent needs epcList or quantityList")
        return self


class AggregationEvent(EventBase):
    type: Literal["AggregationEvent"]
    action: Action
    parentID: Uri | None = None
    childEPCs: list[Uri] = Field(default_factory=list)
    childQuantityList: list[QuantityElement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _parent_for_changes(self) -> "AggregationEvent":
        if self.action != "OBSERVE" and not self.parentID:
            raise ValueError(f"parentID is required when action is {self.action}")
        return self


class TransactionEvent(EventBase):
    type: Literal["TransactionEvent"]
    action: Action
    bizTransactionList: list[BizTransaction] = Field(min_length=1)
    parentID: Uri | None = None
    epcList: list[Uri] = Field(default_factory=list)
    quantityList: list[QuantityElement] = Field(default_factory=list)


class TransformationEvent(EventBase):
    type: Literal["TransformationEvent"]
    inputEPCList: list[Uri] = Field(default_factory=list)
    inputQuantityList: list[QuantityElement] = Field(default_factory=list)
    outputEPCList: list[Uri] = Field(default_factory=list)
    outputQuantityList: list[QuantityElement] = Field(default_factory=list)
    transformationID: Uri | None = None
    ilmd: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _has_inputs_or_outputs(self) -> "TransformationEvent":
        if not (self.inputEPCList or self.inputQuantityList or self.outputEPCList or self.outputQuantityList):
            raise ValueError("a TransformationEvent needs inputs or outputs")
        return self


class AssociationEvent(EventBase):
    type: Literal["AssociationEvent"]
    action: Action
    parentID: Uri
    childEPCs: list[Uri] = Field(default_factory=list)
    childQuantityList: list[QuantityElement] = Field(default_factory=list)


EpcisEvent = Annotated[
    ObjectEvent | AggregationEvent | TransactionEvent | TransformationEvent | AssociationEvent,
    Field(discriminator="type"),
]
EVENT_TYPES = frozenset({"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                         "AssociationEvent"})


class EpcisBody(EpcisModel):
    eventList: list[EpcisEvent] = Field(min_length=1, max_length=1000)


class EPCISDocument(EpcisModel):
    context: str | list[str | dict[str, str]] = Field(alias="@context")
    type: Literal["EPCISDocument"]
    schemaVersion: Literal["2.0"]
    creationDate: Timestamp
    id: Uri | None = None
    epcisBody: EpcisBody

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="after")
    def _uses_the_epcis_context(self) -> "EPCISDocument":
        contexts = [self.context] if isinstance(self.context, str) else self.context
        if EPCIS_CONTEXT not in contexts:
            raise ValueError(f"@context must include {EPCIS_CONTEXT}")
        return self

    def prefixes(self) -> dict[str, str]:
        """CURIE prefixes the document declares in its @context (for extension names)."""
        contexts = [] if isinstance(self.context, str) else self.context
        return {k: v for c in contexts if isinstance(c, dict) for k, v in c.items() if isinstance(v, str)}


class CapturedEvent(ApiModel):
    eventID: str
    eventType: str
    eventHash: str
    status: Literal["captured", "duplicate"]


class CaptureResult(ApiModel):
    captureID: uuid.UUID
    eventCount: int
    events: list[CapturedEvent]


class StoredEvent(ApiModel):
    eventID: str
    eventType: str
    eventTime: dt.datetime
    eventHash: str
    event: dict[str, Any]


class EventPage(ApiModel):
    epc: str
    items: list[StoredEvent]
