"""EPCIS 2.0 JSON-LD documents for tests: a steel coil cut into serialised parts, packed and shipped."""

from typing import Any

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://ns.tradeloom.dev/"}]
COIL_LOT = "urn:epc:class:lgtin:4012345.012345.COIL7"
PART_1, PART_2 = "urn:epc:id:sgtin:4012345.077889.1", "urn:epc:id:sgtin:4012345.077889.2"
PALLET = "urn:epc:id:sscc:4012345.0000000333"
CANONICAL_COIL = "https://id.gs1.org/01/04012345123456/10/COIL7"
CANONICAL_PART_1 = "https://id.gs1.org/01/04012345778892/21/1"
CANONICAL_PART_2 = "https://id.gs1.org/01/04012345778892/21/2"
CANONICAL_PALLET = "https://id.gs1.org/00/040123450000003338"


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-20T09:00:00+08:00", "epcisBody": {"eventList": list(events)}}


def when(hour: int) -> dict[str, str]:
    return {"eventTime": f"2026-11-20T{hour:02d}:00:00+08:00", "eventTimeZoneOffset": "+08:00"}


def cutting() -> dict[str, Any]:
    return {"type": "TransformationEvent", **when(8), "bizStep": "commissioning",
            "inputQuantityList": [{"epcClass": COIL_LOT, "quantity": 120.5, "uom": "KGM"}],
            "outputEPCList": [PART_1, PART_2], "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.0"},
            "ex:machine": "CNC-7"}


def packing() -> dict[str, Any]:
    return {"type": "AggregationEvent", **when(9), "action": "ADD", "bizStep": "packing", "parentID": PALLET,
            "childEPCs": [PART_1, PART_2], "bizLocation": {"id": "urn:epc:id:sgln:4012345.00011.0"}}


def shipping() -> dict[str, Any]:
    return {"type": "ObjectEvent", **when(10), "action": "OBSERVE", "bizStep": "shipping", "epcList": [PALLET],
            "disposition": "in_transit",
            "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:PO-778"}]}


def receiving() -> dict[str, Any]:
    return {"type": "ObjectEvent", **when(16), "action": "OBSERVE", "bizStep": "receiving", "epcList": [PALLET],
            "disposition": "in_progress", "readPoint": {"id": "urn:epc:id:sgln:4023333.00001.0"}}
