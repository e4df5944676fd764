"""The public traceability page behind a label's QR code: ``/t/{identifier}``, no sign-in.

It shows the item, its events with their evidence bundles (checked in the visitor's browser by
``static/verify.js``) and the label's scan counter with the anti-counterfeit warnings.
"""

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from ledger.scans import ScanWarning, record_scan, scan_summary, scan_warnings
from ledger.trace_view import TraceEventKind, trace_view
from ledger.verify import CheckName
from tradeloom.db import utcnow
from tradeloom.errors import NotFound
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.labels import N_
from tradeloom.web.templating import add_template_dir, render

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_PATH = "/ledger/static"
router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

EVENT_KIND_LABELS = {
    TraceEventKind.PRODUCTION: N_("Production step"),
    TraceEventKind.QUALITY_CHECK: N_("Quality check"),
    TraceEventKind.SHIPPING: N_("Shipping"),
    TraceEventKind.RECEIPT: N_("Goods receipt"),
    TraceEventKind.SALE: N_("Sale"),
}
CHECK_LABELS = {
    CheckName.BUNDLE_FORMAT: N_("Bundle format"),
    CheckName.ENTRY_FORMAT: N_("Entry format"),
    CheckName.LOG_KEY: N_("Log key"),
    CheckName.CHECKPOINT_SIGNATURE: N_("Checkpoint signature"),
    CheckName.TREE_SIZE: N_("Tree size"),
    CheckName.INCLUSION_PROOF: N_("Inclusion proof"),
    CheckName.NEWER_CHECKPOINT_SIGNATURE: N_("Newer checkpoint signature"),
    CheckName.CONSISTENCY_PROOF: N_("Consistency proof"),
}
WARNING_LABELS = {
    ScanWarning.MANY_NETWORKS: N_(
        "Warning: this label was scanned from many different networks within a day. "
        "Copied labels look like this; check the product carefully and ask the seller."
    ),
    ScanWarning.SCANNED_AFTER_HANDOVER: N_(
        "Warning: this item was already delivered to its buyer, yet its label keeps being scanned "
        "from other networks. The label may have been copied."
    ),
}
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]")
NO_STORE = {"Cache-Control": "no-store"}


def _not_found_page(request: Request, identifier: str) -> Response:
    return render(request, "ledger/trace_not_found.html", {"identifier": identifier}, status_code=404)


# Registered before the page: the page's ``{identifier:path}`` would otherwise swallow this path too.
@router.get("/t/{identifier:path}/bundles/{event_id}.json")
async def download_bundle(request: Request, tx: Tx, identifier: str, event_id: str) -> Response:
    """One event's evidence bundle as a file, for offline checking with ``tradeloom ledger verify``."""
    try:
        view = await trace_view(await tx.session(), identifier)
    except NotFound:
        return _not_found_page(request, identifier)
    event = view.event(event_id)
    if event is None or event.bundle is None:
        return _not_found_page(request, identifier)
    filename = f"evidence-{_UNSAFE_IN_FILENAME.sub('_', event_id)}.json"
    return Response(event.bundle.to_json(), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/t/{identifier:path}")
async def trace_page(request: Request, tx: Tx, identifier: str) -> Response:
    """The item's verified history and scan signals; every view counts as one scan."""
    session = await tx.session()
    try:
        view = await trace_view(session, identifier)
    except NotFound:
        return _not_found_page(request, identifier)
    client_ip = request.client.host if request.client else None
    await record_scan(session, identifier=view.item.identifier, client_ip=client_ip,
                      accept_language=request.headers.get("accept-language"))
    summary = await scan_summary(session, identifier=view.item.identifier, now=utcnow(),
                                 handed_over_at=view.handed_over_at)
    response = render(request, "ledger/trace.html", {
        "view": view, "scans": summary, "warnings": scan_warnings(summary),
        "kind_labels": EVENT_KIND_LABELS, "check_labels": CHECK_LABELS, "warning_labels": WARNING_LABELS,
        "static_path": STATIC_PATH,
    })
    response.headers.update(NO_STORE)
    return response


def install(app: FastAPI) -> None:
    """Serve the page, its templates and the browser verifier (``/ledger/static/verify.js``)."""
    add_template_dir(PACKAGE_DIR / "templates")
    app.mount(STATIC_PATH, StaticFiles(directory=PACKAGE_DIR / "static"), name="ledger-static")
    app.include_router(router)
