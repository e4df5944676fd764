"""CBV 2.0 event hash: GS1's published example, and the normalisations that make it syntax-independent."""

import copy
from typing import Any

import pytest

from ledger.epcis.epc import canonical_epc
from ledger.epcis.hashing import event_hash, pre_hash_string, utc_millis

# The single-event example of GS1's reference implementation (epcis-event-hash-generator,
# tests/examples/epcisDocWithSingleEvent.jsonld) with its published pre-hash string and hash.
PUBLISHED_EVENT: dict[str, Any] = {
    "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "shipping", "disposition": "in_transit",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
    "eventTime": "2022-02-16T20:33:31.116000-06:00", "eventTimeZoneOffset": "-06:00",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "bizTransactionList": [{"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}],
}
PUBLISHED_PRE_HASH = (
    "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00"
    "epcListepc=https://id.gs1.org/01/10614141073464/21/2017epc=https://id.gs1.org/01/10614141073464/21/2018"
    "action=OBSERVEbizStep=https://ref.gs1.org/cbv/BizStep-shippingdisposition=https://ref.gs1.org/cbv/Disp-in_transit"
    "readPointid=https://id.gs1.org/414/0614141073467/254/1234"
    "bizTransactionListbizTransaction=http://transaction.acme.com/po/12345678type=https://ref.gs1.org/cbv/BTT-po"
)
PUBLISHED_HASH = "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182?ver=CBV2.0"


class TestPublishedExample:
    def test_pre_hash_string_matches(self) -> None:
        assert pre_hash_string(PUBLISHED_EVENT) == PUBLISHED_PRE_HASH

    def test_hash_matches(self) -> None:
        assert event_hash(PUBLISHED_EVENT) == PUBLISHED_HASH


class TestNormalisation:
    def test_field_and_list_order_do_not_matter(self) -> None:
        shuffled = dict(reversed(list(copy.deepcopy(PUBLISHED_EVENT).items())))
        shuffled["epcList"].reverse()
        assert event_hash(shuffled) == PUBLISHED_HASH

    def test_urns_digital_links_and_urn_vocabulary_are_the_same_event(self) -> None:
        rewritten = copy.deepcopy(PUBLISHED_EVENT) | {
            "epcList": ["https://example.com/01/10614141073464/21/2017?x=1",
                        "https://id.gs1.org/01/10614141073464/21/2018"],
            "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
            "disposition": "https://ref.gs1.org/cbv/Disp-in_transit",
            "eventTime": "2022-02-17T02:33:31.116Z",
        }
        assert event_hash(rewritten) == PUBLISHED_HASH

    def test_ids_and_record_time_are_not_hashed_but_extensions_are(self) -> None:
        with_ids = PUBLISHED_EVENT | {"eventID": "urn:uuid:5a9a4d7e-1f57-4e43-9ca9-9bd3f8c1a0aa",
                                      "recordTime": "2022-02-17T03:00:00Z"}
        extended = PUBLISHED_EVENT | {"ex:temperature": "4.50"}
        assert event_hash(with_ids) == PUBLISHED_HASH
        assert pre_hash_string(extended, {"ex": "https://ns.example.com/"}) == (
            PUBLISHED_PRE_HASH + "{https://ns.example.com/}temperature=4.5")

    def test_quantities_and_transformation_fields_in_canonical_order(self) -> None:
        event = {"type": "TransformationEvent", "eventTime": "2026-11-20T08:00:00+08:00",
                 "eventTimeZoneOffset": "+08:00",
                 "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": "200.0",
                                        "uom": "KGM"}],
                 "outputEPCList": ["urn:epc:id:sgtin:4012345.077889.25"], "bizStep": "commissioning"}
        assert pre_hash_string(event) == (
            "eventType=TransformationEventeventTime=2026-11-20T00:00:00.000ZeventTimeZoneOffset=+08:00"
            "inputQuantityListquantityElementepcClass=https://id.gs1.org/01/04012345123456/10/998877"
            "quantity=200uom=KGMoutputEPCListepc=https://id.gs1.org/01/04012345778892/21/25"
            "bizStep=https://ref.gs1.org/cbv/BizStep-commissioning")

    def test_times_are_utc_with_milliseconds(self) -> None:
        assert utc_millis("2020-03-04T11:00:30+01:00") == "2020-03-04T10:00:30.000Z"


@pytest.mark.parametrize(("epc", "canonical"), [
    ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
    ("urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.org/00/040123450000003338"),
    ("urn:epc:id:sgln:4012345.00011.0", "https://id.gs1.org/414/4012345000115"),
    ("urn:epc:id:pgln:4012345.00000", "https://id.gs1.org/417/4012345000009"),
    ("urn:epc:id:gdti:4012345.11111.123", "https://id.gs1.org/253/4012345111118123"),
    ("urn:epc:class:lgtin:4012345.012345.998877", "https://id.gs1.org/01/04012345123456/10/998877"),
    ("https://brand.example/01/04012345123456/10/998877/21/7?17=261231", "https://id.gs1.org/01/04012345123456/21/7"),
    ("https://brand.example/00/040123450000003338", "https://id.gs1.org/00/040123450000003338"),
    ("geo:47.506694,11.104301", "geo:47.506694,11.104301"),
    ("urn:example:private:42", "urn:example:private:42"),
])
def test_canonical_epc(epc: str, canonical: str) -> None:
    assert canonical_epc(epc) == canonical
