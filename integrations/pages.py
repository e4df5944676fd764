"""Integration settings in the org admin area: API keys, webhooks, connectors (mapping editor, sync state,
error queue) and bulk job progress. Every action calls the same services as the API."""

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.bulk import service as bulk
from integrations.connectors import push
from integrations.connectors import service as connectors
from integrations.connectors.api import call_options
from integrations.connectors.clients import CLIENTS
from integrations.connectors.mapping import alternative_mappings, profile_mapping
from integrations.connectors.schemas import ConnectorIn
from integrations.crm import service as crm
from integrations.webhooks import service as webhooks
from tradeloom.audit import record_audit
from tradeloom.errors import Invalid, TradeloomError, Unavailable
from tradeloom.identity import service as identity
from tradeloom.identity.roles import Permission
from tradeloom.routing import PrefixedRouter
from tradeloom.transaction import TransactionalRoute, Tx
from tradeloom.web.forms import form_errors, form_version, run_form_action
from tradeloom.web.labels import N_
from tradeloom.web.navigation import NavItem, add_nav_item
from tradeloom.web.pages import Member
from tradeloom.web.templating import add_template_dir, environment, render

router = PrefixedRouter(prefix="/integrations", route_class=TransactionalRoute, include_in_schema=False)
SCOPES = [permission.value for permission in Permission if permission is not Permission.PLATFORM_MANAGE]
# states and stages the pages show, marked for translation (templates: ``_(integration_label(value))``)
LABELS = {
    "queued": N_("queued"), "running": N_("running"), "succeeded": N_("succeeded"), "failed": N_("failed"),
    "partial": N_("partial"), "created": N_("created"), "existing": N_("already there"),
    "rejected": N_("rejected"), "fetch": N_("fetching"), "map": N_("mapping"), "record": N_("record refused"),
    "pending": N_("pending"), "delivered": N_("delivered"), "dead": N_("dead"), "push": N_("sending"),
    "sent": N_("sent"), "purchase_order": N_("purchase order"), "invoice": N_("invoice"),
}


def _credentials(text: str) -> dict[str, str] | None:
    """``key=value`` lines; an empty box keeps the stored credentials (None)."""
    pairs = [line.split("=", 1) for line in text.splitlines() if line.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise Invalid("Write the credentials as key=value, one per line.", code="connector_credentials_invalid")
    return {key.strip(): value.strip() for key, value in pairs} or None


def _connector_fields(form: Any) -> ConnectorIn:
    """The connector form as the API's body (same validation); a new connector starts from its profile's
    shipped mapping when the mapping box is empty."""
    profile, mapping = str(form.get("profile") or ""), str(form.get("mapping_yaml") or "")
    if not mapping.strip() and profile in CLIENTS:  # the chosen shipped mapping of the profile (CRM, SRM …)
        mapping = alternative_mappings(profile).get(str(form.get("starting_mapping") or ""), profile_mapping(profile))
    return ConnectorIn.model_validate({
        "name": form.get("name"), "profile": profile, "base_url": form.get("base_url"), "mapping_yaml": mapping,
        "schedule_minutes": form.get("schedule_minutes") or None, "is_active": form.get("is_active") == "on",
        "credentials": _credentials(str(form.get("credentials") or ""))})


async def _overview(request: Request, principal: Member, session: AsyncSession, *, errors: list[str] | None = None,
                    new_key: str | None = None, status_code: int = 200) -> Response:
    context = {
        "api_keys": await identity.list_api_keys(session) if principal.can(Permission.API_KEYS_MANAGE) else [],
        "subscriptions": await webhooks.list_subscriptions(session),
        "connectors": await connectors.list_connectors(session),
        "jobs": await bulk.recent_jobs(session, limit=10),
        "scopes": SCOPES, "profiles": sorted(CLIENTS), "errors": errors or [], "new_key": new_key,
        "mappings": [name for profile in sorted(CLIENTS) for name in alternative_mappings(profile)],
        "crm": await crm.crm_counts(session),
    }
    return render(request, "integrations/overview.html", context, principal=principal, status_code=status_code)


@router.get("")
async def overview(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    return await _overview(request, principal, await tx.session())


@router.post("/api-keys")
async def create_api_key(request: Request, principal: Member, tx: Tx) -> Response:
    """Create a key and show its secret on the page this once."""
    principal.require(Permission.API_KEYS_MANAGE)
    session, form = await tx.session(), await request.form()
    try:
        api_key, plaintext = await identity.create_api_key(
            session, org_id=principal.org_id, name=str(form.get("name") or "").strip()[:120] or "ERP",
            scopes=[str(scope) for scope in form.getlist("scopes")], created_by=principal.user_id)
    except Invalid as exc:
        await tx.abandon()
        return await _overview(request, principal, await tx.session(), errors=form_errors(exc), status_code=422)
    await record_audit(session, actor=principal.actor, action="api_key.created", object_type="api_key",
                       object_id=api_key.id, details={"name": api_key.name, "scopes": api_key.scopes})
    return await _overview(request, principal, session, new_key=plaintext)


async def _show_overview_again(request: Request, principal: Member, session: AsyncSession, errors: list[str],
                               status: int) -> Response:
    return await _overview(request, principal, session, errors=errors, status_code=status)


@router.post("/api-keys/{key_id}/revoke")
async def revoke_api_key(key_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.API_KEYS_MANAGE)

    async def revoke(session: AsyncSession, form: Any) -> None:
        await identity.revoke_api_key(session, key_id=key_id)
        await record_audit(session, actor=principal.actor, action="api_key.revoked", object_type="api_key",
                           object_id=key_id)

    return await run_form_action(request, tx, revoke, done_url="/integrations", show_again=lambda s, e, c:
                                 _show_overview_again(request, principal, s, e, c))


def _allowed_webhook_hosts(request: Request) -> frozenset[str]:
    return frozenset(host.lower() for host in request.app.state.settings.webhook_allowed_hosts)


@router.post("/webhooks")
async def subscribe(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)

    async def create(session: AsyncSession, form: Any) -> None:
        events = [event.strip() for event in str(form.get("event_types") or "").split(",") if event.strip()]
        await webhooks.create_subscription(session, actor=principal.actor, url=str(form.get("url") or "").strip(),
                                           event_types=events or ["*"], description=None,
                                           allowed_hosts=_allowed_webhook_hosts(request))

    return await run_form_action(request, tx, create, done_url="/integrations", show_again=lambda s, e, c:
                                 _show_overview_again(request, principal, s, e, c))


async def _webhook_page(request: Request, principal: Member, session: AsyncSession, subscription_id: uuid.UUID,
                        errors: list[str], status_code: int = 200, *, reveal: bool = False) -> Response:
    """The delivery log; with ``reveal`` also the signing secret (asked for with a button, see below)."""
    subscription = await webhooks.get_subscription(session, subscription_id=subscription_id)
    deliveries = await webhooks.list_deliveries(session, subscription_id=subscription_id, before_id=None, limit=50)
    signing_secret = secret_problem = None
    if reveal:
        try:
            signing_secret = webhooks.open_secret(subscription)
        except Unavailable as exc:
            secret_problem = exc.message
    return render(request, "integrations/webhook.html",
                  {"subscription": subscription, "deliveries": deliveries, "errors": errors,
                   "signing_secret": signing_secret, "secret_problem": secret_problem},
                  principal=principal, status_code=status_code)


@router.get("/webhooks/{subscription_id}")
async def webhook_log(subscription_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    return await _webhook_page(request, principal, await tx.session(), subscription_id, [])


@router.post("/webhooks/{subscription_id}/secret")
async def reveal_secret(subscription_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    """Show the signing secret once more (a receiver being set up again); each showing is in the audit log."""
    principal.require(Permission.INTEGRATION_MANAGE)
    session = await tx.session()
    page = await _webhook_page(request, principal, session, subscription_id, [], reveal=True)
    await record_audit(session, actor=principal.actor, action="webhook.secret_revealed",
                       object_type="webhook_subscription", object_id=subscription_id, details={})
    return page


async def _webhook_action(request: Request, principal: Member, tx: Tx, subscription_id: uuid.UUID,
                          action: Callable[[AsyncSession], Awaitable[object]]) -> Response:
    """Run one button of the delivery log page, then show the log (again, with the reasons, if refused)."""
    principal.require(Permission.INTEGRATION_MANAGE)

    async def act(session: AsyncSession, form: Any) -> None:
        await action(session)

    return await run_form_action(request, tx, act, done_url=f"/integrations/webhooks/{subscription_id}",
                                 show_again=lambda s, e, c: _webhook_page(request, principal, s, subscription_id, e, c))


@router.post("/webhooks/{subscription_id}/test")
async def webhook_test(subscription_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    return await _webhook_action(request, principal, tx, subscription_id, lambda session: webhooks.send_test(
        session, actor=principal.actor, subscription_id=subscription_id))


@router.post("/webhooks/{subscription_id}/deliveries/{delivery_id}/replay")
async def webhook_replay(subscription_id: uuid.UUID, delivery_id: int, request: Request, principal: Member,
                         tx: Tx) -> Response:
    return await _webhook_action(request, principal, tx, subscription_id, lambda session: webhooks.replay_delivery(
        session, actor=principal.actor, delivery_id=delivery_id))


@router.post("/connectors")
async def create_connector(request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    session, form = await tx.session(), await request.form()
    try:
        connector = await connectors.create_connector(session, actor=principal.actor, fields=_connector_fields(form),
                                                      options=call_options(request))
    except (ValidationError, TradeloomError) as exc:
        await tx.abandon()
        return await _overview(request, principal, await tx.session(), errors=form_errors(exc), status_code=422)
    return await _connector_page(request, principal, session, connector.id, [], 201)


async def _connector_page(request: Request, principal: Member, session: AsyncSession, connector_id: uuid.UUID,
                          errors: list[str], status_code: int = 200, check: Any = None) -> Response:
    connector = await connectors.get_connector(session, connector_id=connector_id)
    queue = await connectors.list_errors(session, connector_id=connector_id, status="open")
    pushes = await push.list_pushes(session, connector_id=connector_id, status=None, limit=50)
    return render(request, "integrations/connector.html",
                  {"connector": connector, "queue": queue, "errors": errors, "check": check,
                   "pushes": pushes, "push_counts": await push.push_counts(session, connector_id=connector_id),
                   "profiles": sorted(CLIENTS)}, principal=principal, status_code=status_code)


@router.get("/connectors/{connector_id}")
async def connector_page(connector_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    return await _connector_page(request, principal, await tx.session(), connector_id, [])


def _show_connector_again(request: Request, principal: Member, connector_id: uuid.UUID) -> Any:
    return lambda s, e, c: _connector_page(request, principal, s, connector_id, e, c)


@router.post("/connectors/{connector_id}")
async def save_connector(connector_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    """The mapping editor's save: checked server-side; a refusal shows the page with the reasons."""
    principal.require(Permission.INTEGRATION_MANAGE)

    async def save(session: AsyncSession, form: Any) -> None:
        await connectors.update_connector(session, actor=principal.actor, connector_id=connector_id,
                                          expected_version=form_version(form.get("version")),
                                          fields=_connector_fields(form), options=call_options(request))

    return await run_form_action(request, tx, save, done_url=f"/integrations/connectors/{connector_id}",
                                 show_again=_show_connector_again(request, principal, connector_id))


@router.post("/connectors/{connector_id}/test")
async def connector_test(connector_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    principal.require(Permission.INTEGRATION_MANAGE)
    session = await tx.session()
    try:
        check = await connectors.test_connection(session, connector_id=connector_id, options=call_options(request))
    except Invalid as refused:  # e.g. the server URL now points inside our network
        return await _connector_page(request, principal, session, connector_id, form_errors(refused), 422)
    return await _connector_page(request, principal, session, connector_id, [], check=check)


async def _connector_action(request: Request, principal: Member, tx: Tx, connector_id: uuid.UUID,
                            action: Callable[[AsyncSession], Awaitable[object]]) -> Response:
    """Run one button of the connector page, then show the page (again, with the reasons, if refused)."""
    principal.require(Permission.INTEGRATION_MANAGE)

    async def act(session: AsyncSession, form: Any) -> None:
        await action(session)

    return await run_form_action(request, tx, act, done_url=f"/integrations/connectors/{connector_id}",
                                 show_again=_show_connector_again(request, principal, connector_id))


@router.post("/connectors/{connector_id}/sync")
async def connector_sync(connector_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    return await _connector_action(request, principal, tx, connector_id, lambda session: connectors.request_sync(
        session, actor=principal.actor, connector_id=connector_id))


@router.post("/connectors/{connector_id}/errors/{error_id}/dismiss")
async def connector_dismiss(connector_id: uuid.UUID, error_id: uuid.UUID, request: Request, principal: Member,
                            tx: Tx) -> Response:
    return await _connector_action(request, principal, tx, connector_id, lambda session: connectors.dismiss_error(
        session, actor=principal.actor, error_id=error_id))


@router.post("/connectors/{connector_id}/errors/{error_id}/retry")
async def connector_retry_error(connector_id: uuid.UUID, error_id: uuid.UUID, request: Request, principal: Member,
                                tx: Tx) -> Response:
    return await _connector_action(request, principal, tx, connector_id, lambda session: push.retry_error(
        session, actor=principal.actor, error_id=error_id))


@router.post("/connectors/{connector_id}/pushes/{push_id}/retry")
async def connector_retry_push(connector_id: uuid.UUID, push_id: uuid.UUID, request: Request, principal: Member,
                               tx: Tx) -> Response:
    return await _connector_action(request, principal, tx, connector_id, lambda session: push.retry_push(
        session, actor=principal.actor, push_id=push_id))


@router.get("/bulk/{job_id}")
async def bulk_job(job_id: uuid.UUID, request: Request, principal: Member, tx: Tx) -> Response:
    """Progress and the per-record report; refreshes itself (htmx) while the job runs."""
    principal.require(Permission.INTEGRATION_MANAGE)
    job = await bulk.get_job(await tx.session(), job_id=job_id)
    template = "integrations/bulk_progress.html" if request.headers.get("HX-Request") else "integrations/bulk.html"
    return render(request, template, {"job": job, "results": job.results[:500]}, principal=principal)


@router.get("/crm")
async def crm_records(request: Request, principal: Member, tx: Tx) -> Response:
    """The customers and contacts the CRM connectors brought in."""
    principal.require(Permission.INTEGRATION_MANAGE)
    session = await tx.session()
    customers = await crm.list_customers(session, query=request.query_params.get("q"), linked=None, limit=500)
    contacts = await crm.list_contacts(session, customer_id=None, limit=1000)
    return render(request, "integrations/crm.html", {
        "customers": customers, "contacts": contacts, "query": request.query_params.get("q") or "",
        "customer_names": {customer.id: customer.name for customer in customers},
        "buyers": await crm.buyer_names(session, {c.buyer_org_id for c in customers if c.buyer_org_id})},
        principal=principal)


def install(app: FastAPI) -> None:
    """Integration pages, templates and the menu entry (org admins)."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
    environment.globals.update(integration_label=lambda value: LABELS.get(value, value))
    app.include_router(router)
    add_nav_item(NavItem("/integrations", N_("Integrations"), permission=Permission.INTEGRATION_MANAGE, order=90))
