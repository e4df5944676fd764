"""Connectors: set one up (mapping checked on save), test its connection, list its sync state and errors."""

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from integrations.connectors.clients import CLIENTS, ConnectorRefused, ConnectorUnavailable, Transport
from integrations.connectors.mapping import parse_mapping
from integrations.connectors.models import Connector, ConnectorError
from integrations.connectors.schemas import ConnectorIn
from integrations.connectors.secrets import credentials_box, open_credentials, seal_credentials
from integrations.webhooks.ssrf import check_target
from tradeloom.audit import Actor, record_audit
from tradeloom.concurrency import check_version
from tradeloom.db import flush_or_conflict, utcnow
from tradeloom.errors import Invalid, NotFound
from tradeloom.outbox.service import emit
from tradeloom.secret_box import SecretBox
from tradeloom.settings import Settings

SYNC_REQUESTED = "integration.connector_sync_requested"


@dataclass(frozen=True)
class CallOptions:
    """How ERP calls are made (from settings): which internal hosts are allowed, timeouts, retries."""

    allowed_hosts: frozenset[str]
    timeout_seconds: float
    retry_seconds: float
    keyring: str = ""  # TRADELOOM_SECRETS_KEY; empty: the process settings'

    @classmethod
    def from_settings(cls, settings: Settings) -> "CallOptions":
        try:
            keyring = settings.secrets_keyring()
        except RuntimeError:  # production without TRADELOOM_SECRETS_KEY: box() answers 503
            keyring = ""
        return cls(frozenset(host.lower() for host in settings.connector_allowed_hosts),
                   settings.connector_timeout_seconds, settings.connector_retry_seconds, keyring)

    def box(self) -> SecretBox:
        return credentials_box(self.keyring)


def transport(connector: Connector, options: CallOptions) -> Transport:
    return Transport(connector.base_url, options.timeout_seconds, backoff_seconds=options.retry_seconds)


def _checked(fields: ConnectorIn, options: CallOptions) -> None:
    if fields.profile not in CLIENTS:
        raise Invalid(f"No connector profile is called {fields.profile!r} ({', '.join(sorted(CLIENTS))}).",
                      code="connector_profile_unknown")
    parse_mapping(fields.mapping_yaml)
    check_target(fields.base_url, allowed_hosts=options.allowed_hosts, what="connector")


async def create_connector(session: AsyncSession, *, actor: Actor, fields: ConnectorIn,
                           options: CallOptions) -> Connector:
    """Save a connector after checking its profile, mapping (422 naming the fault) and URL."""
    _checked(fields, options)
    connector_id = uuid.uuid4()
    connector = Connector(
        id=connector_id, org_id=actor.org_id, name=fields.name, profile=fields.profile, base_url=fields.base_url,
        credentials=seal_credentials(options.box(), connector_id, fields.credentials or {}),
        mapping_yaml=fields.mapping_yaml, schedule_minutes=fields.schedule_minutes, is_active=fields.is_active,
        next_sync_at=utcnow() if fields.schedule_minutes else None, last_summary={}, consecutive_failures=0)
    session.add(connector)
    await flush_or_conflict(session, f"You already have a connector called {fields.name}.", "connector_name_taken")
    await record_audit(session, actor=actor, action="integration.connector_created", object_type="connector",
                       object_id=connector.id, details={"profile": fields.profile, "name": fields.name})
    return connector


async def update_connector(session: AsyncSession, *, actor: Actor, connector_id: uuid.UUID, expected_version: int,
                           fields: ConnectorIn, options: CallOptions) -> Connector:
    """Change a connector (If-Match); leaving out the credentials keeps them."""
    connector = await get_connector(session, connector_id=connector_id)
    check_version(connector.version, expected_version)
    _checked(fields, options)
    connector.name, connector.profile, connector.base_url = fields.name, fields.profile, fields.base_url
    connector.mapping_yaml, connector.schedule_minutes = fields.mapping_yaml, fields.schedule_minutes
    connector.is_active = fields.is_active
    if fields.credentials is not None:
        connector.credentials = seal_credentials(options.box(), connector.id, fields.credentials)
    if fields.is_active:
        connector.consecutive_failures = 0
    await flush_or_conflict(session, f"You already have a connector called {fields.name}.", "connector_name_taken")
    await record_audit(session, actor=actor, action="integration.connector_updated", object_type="connector",
                       object_id=connector.id, details={"version": connector.version})
    return connector


async def get_connector(session: AsyncSession, *, connector_id: uuid.UUID) -> Connector:
    """One connector of the caller's organization (row-level security hides the others: 404)."""
    connector = await session.get(Connector, connector_id)
    if connector is None:
        raise NotFound("No such connector.", code="connector_not_found")
    return connector


async def list_connectors(session: AsyncSession) -> list[Connector]:
    """The caller's organization's connectors by name."""
    return list((await session.scalars(select(Connector).order_by(Connector.name))).all())


async def list_errors(session: AsyncSession, *, connector_id: uuid.UUID, status: str | None,
                      limit: int = 200) -> list[ConnectorError]:
    """A connector's error queue, newest first."""
    query = (select(ConnectorError).where(ConnectorError.connector_id == connector_id)
             .order_by(ConnectorError.last_seen_at.desc()).limit(limit))
    if status is not None:
        query = query.where(ConnectorError.status == status)
    return list((await session.scalars(query)).all())


async def dismiss_error(session: AsyncSession, *, actor: Actor, error_id: uuid.UUID) -> ConnectorError:
    """Take an error off the open queue (someone dealt with it in their system)."""
    error = await session.get(ConnectorError, error_id)
    if error is None:
        raise NotFound("No such connector error.", code="connector_error_not_found")
    await session.execute(update(ConnectorError).where(ConnectorError.id == error_id).values(status="dismissed"))
    await record_audit(session, actor=actor, action="integration.connector_error_dismissed",
                       object_type="connector_error", object_id=error_id)
    await session.refresh(error)
    return error


async def request_sync(session: AsyncSession, *, actor: Actor, connector_id: uuid.UUID) -> Connector:
    """Queue a pull now (the job runs after this transaction commits)."""
    connector = await get_connector(session, connector_id=connector_id)
    if not connector.is_active:
        raise Invalid("The connector is switched off; switch it on first.", code="connector_inactive")
    await emit(session, org_id=actor.org_id, topic=SYNC_REQUESTED, payload={"connector_id": str(connector.id)})
    return connector


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


async def test_connection(session: AsyncSession, *, connector_id: uuid.UUID, options: CallOptions) -> ConnectionCheck:
    """Sign in to their system and make one harmless call; says what went wrong if it did not work."""
    connector = await get_connector(session, connector_id=connector_id)
    check_target(connector.base_url, allowed_hosts=options.allowed_hosts, what="connector")
    return await check_connection(connector, options)


async def check_connection(connector: Connector, options: CallOptions) -> ConnectionCheck:
    try:
        credentials = open_credentials(options.box(), connector.id, connector.credentials)
        async with CLIENTS[connector.profile](transport(connector, options), credentials) as erp:
            return ConnectionCheck(True, await erp.check())
    except (ConnectorUnavailable, ConnectorRefused) as exc:
        return ConnectionCheck(False, str(exc))
