"""The browser verifier (ledger/static/verify.js) agrees with the Python one on good and tampered bundles."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.async_api import Page

from ledger.bundle import NewerCheckpoint
from ledger.canonical import EvidenceEntry
from ledger.merkle import consistency_proof
from ledger.verify import verify_bundle
from tests.browser import browser, live_server, page  # noqa: F401 - fixtures
from tests.ledger.trace_log import OTHER_SIGNER, STARTED_AT, MemoryLog

pytestmark = pytest.mark.browser

VERIFY_IN_BROWSER = """async ([bundle, pinnedKey]) => {
  const verifier = await import("/ledger/static/verify.js");
  return verifier.verifyBundle(bundle, { pinnedKey });
}"""
Bundle = dict[str, Any]


def build_log(size: int = 7) -> MemoryLog:
    log = MemoryLog()
    for number in range(size):
        log.append(EvidenceEntry(kind="trace.production", subject=f"item:SN-{number}", org="org-maker",
                                 recorded_at=STARTED_AT, payload={"step": number, "title": f"步骤 {number}"}))
    return log


LOG = build_log()
GOOD = json.loads(LOG.bundle(5).to_json())


def edit_entry(bundle: Bundle, old: bytes, new: bytes) -> Bundle:
    entry = base64.b64decode(bundle["entry"])
    assert old in entry
    return bundle | {"entry": base64.b64encode(entry.replace(old, new, 1)).decode()}


def flip_hex(value: str) -> str:
    return ("0" if value[0] != "0" else "1") + value[1:]


def with_newer(bundle: Bundle, *, tamper: bool = False) -> Bundle:
    log = build_log(9)
    proof = [element.hex() for element in consistency_proof(log.store, 7, 9)]
    if tamper:
        proof[0] = flip_hex(proof[0])
    newer = NewerCheckpoint(checkpoint=log.checkpoint(), consistency_proof=proof)
    return bundle | {"newer_checkpoint": newer.model_dump()}


def resigned_by_other_key(bundle: Bundle) -> Bundle:
    return bundle | {"checkpoint": LOG.checkpoint(OTHER_SIGNER), "log_key": str(OTHER_SIGNER.verifier_key)}


def edited_root(bundle: Bundle) -> Bundle:
    origin, size, root, rest = bundle["checkpoint"].split("\n", 3)
    other_root = base64.b64encode(bytes(32)).decode()
    assert other_root != root
    return bundle | {"checkpoint": "\n".join((origin, size, other_root, rest))}


TAMPERINGS: dict[str, Callable[[Bundle], Bundle]] = {
    "good": lambda b: b,
    "payload byte": lambda b: edit_entry(b, b'"step":5', b'"step":6'),
    "payload no longer canonical": lambda b: edit_entry(b, b'"step":5', b'"step": 5'),
    "payload not JSON": lambda b: edit_entry(b, b"{", b"["),
    "entry not base64": lambda b: b | {"entry": b["entry"][:-2] + "!="},
    "path element": lambda b: b | {"inclusion_proof": [flip_hex(b["inclusion_proof"][0]), *b["inclusion_proof"][1:]]},
    "path too short": lambda b: b | {"inclusion_proof": b["inclusion_proof"][:-1]},
    "path too long": lambda b: b | {"inclusion_proof": [*b["inclusion_proof"], "ab" * 32]},
    "wrong size": lambda b: b | {"tree_size": 8},
    "wrong leaf index": lambda b: b | {"leaf_index": 4},
    "leaf index outside tree": lambda b: b | {"leaf_index": 7},
    "checkpoint by other key": lambda b: b | {"checkpoint": LOG.checkpoint(OTHER_SIGNER)},
    "everything by other key": resigned_by_other_key,
    "log key id edited": lambda b: b | {"log_key": b["log_key"].replace("+", "+0", 1)[:-1]},
    "edited root": edited_root,
    "signature line removed": lambda b: b | {"checkpoint": b["checkpoint"].split("\n\n")[0] + "\n"},
    "extra field": lambda b: b | {"note": "hi"},
    "missing proof": lambda b: {k: v for k, v in b.items() if k != "inclusion_proof"},
    "newer checkpoint": with_newer,
    "newer checkpoint, bad consistency proof": lambda b: with_newer(b, tamper=True),
}


async def browser_report(tab: Page, bundle_text: str, pinned_key: str | None) -> list[tuple[str, str]]:
    report = await tab.evaluate(VERIFY_IN_BROWSER, [bundle_text, pinned_key])
    return [(check["name"], check["status"]) for check in report["checks"]]


def python_report(bundle_text: str, pinned_key: str | None) -> list[tuple[str, str]]:
    return [(check.name.value, check.status.value)
            for check in verify_bundle(bundle_text, pinned_key=pinned_key).checks]


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned key", "bundle's own key"])
async def test_browser_verifier_agrees_with_python_on_every_tampering(
    page: Page, live_server: str, pinned: bool  # noqa: F811
) -> None:
    # given a page on the app's origin (Web Crypto needs a secure context: localhost is one)
    await page.goto(f"{live_server}/healthz")
    pinned_key = LOG.log_key if pinned else None
    for name, tamper in TAMPERINGS.items():
        bundle_text = json.dumps(tamper(dict(GOOD)))
        # when both verifiers check the same bytes
        expected = python_report(bundle_text, pinned_key)
        actual = await browser_report(page, bundle_text, pinned_key)
        # then they run the same checks with the same outcomes
        assert actual == expected, name


async def test_good_bundle_passes_every_check_and_tampering_fails_the_named_check(
    page: Page, live_server: str  # noqa: F811
) -> None:
    await page.goto(f"{live_server}/healthz")
    key = LOG.log_key
    good = await browser_report(page, json.dumps(GOOD), key)
    assert good == [("bundle_format", "ok"), ("entry_format", "ok"), ("log_key", "ok"),
                    ("checkpoint_signature", "ok"), ("tree_size", "ok"), ("inclusion_proof", "ok")]
    failures = {}
    for name in ("payload byte", "path element", "wrong size", "checkpoint by other key", "edited root"):
        report = dict(await browser_report(page, json.dumps(TAMPERINGS[name](dict(GOOD))), key))
        failures[name] = sorted(check for check, status in report.items() if status == "failed")
    assert failures == {
        "payload byte": ["inclusion_proof"],
        "path element": ["inclusion_proof"],
        "wrong size": ["tree_size"],
        "checkpoint by other key": ["checkpoint_signature"],
        "edited root": ["checkpoint_signature"],
    }
    pinned_elsewhere = dict(await browser_report(page, json.dumps(resigned_by_other_key(dict(GOOD))), key))
    assert pinned_elsewhere["log_key"] == "failed"


async def test_every_bundle_of_a_log_verifies_in_the_browser(page: Page, live_server: str) -> None:  # noqa: F811
    await page.goto(f"{live_server}/healthz")
    for size in (1, 2, 3, 5, 8, 13):
        log = build_log(size)
        for index in range(size):
            report = await page.evaluate(VERIFY_IN_BROWSER, [log.bundle(index).to_json(), log.log_key])
            assert report["ok"], (size, index, report["checks"])
