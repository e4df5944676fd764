"""The composition root: builds the FastAPI application from every package's routers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from catalog import api as catalog_api
from catalog import jobs as catalog_jobs
from catalog import pages as catalog_pages
from catalog.governance import wiring as catalog_governance
from catalog.search import api as catalog_search_api
from commerce import payment_port
from commerce.contracts import api as contracts_api
from commerce.contracts import pages as contract_pages
from commerce.logistics import api as logistics_api
from commerce.logistics import pages as logistics_pages
from commerce.orders import api as orders_api
from commerce.orders import pages as order_pages
from commerce.orders.placer import OrdersPlacer
from commerce.qualifications import api as qualifications_api
from commerce.qualifications import pages as qualification_pages
from commerce.rfq import api as rfq_api
from commerce.rfq import pages as rfq_pages
from commerce.settlement import api as settlement_api
from commerce.settlement import jobs as settlement_jobs
from commerce.settlement import pages as settlement_pages
from commerce.settlement.account_statements import api as account_statements_api
from commerce.settlement.account_statements import pages as account_statement_pages
from commerce.settlement.finance import api as finance_api
from commerce.settlement.finance import pages as finance_pages
from commerce.settlement.milestones import PrepaymentGate
from commerce.settlement.stripe import api as stripe_api
from commerce.settlement.stripe import pages as stripe_pages
from commerce.settlement.tax_rates import api as tax_rates_api
from commerce.settlement.tax_rates import pages as tax_rate_pages
from commerce.supplier_performance import api as supplier_performance_api
from commerce.supplier_performance import pages as supplier_performance_pages
from integrations import pages as integration_pages
from integrations.bulk import api as bulk_api
from integrations.changes import api as changes_api
from integrations.connectors import api as connectors_api
from integrations.crm import api as crm_api
from integrations.edi import api as edi_api
from integrations.edi import pages as edi_pages
from integrations.external_ids import api as external_ids_api
from integrations.punchout import api as punchout_api
from integrations.punchout import pages as punchout_pages
from integrations.webhooks import api as webhooks_api
from iot_bridge import api as iot_api
from iot_bridge import pages as iot_pages
from ledger import api as ledger_api
from ledger import files_api as ledger_files_api
from ledger import pages as ledger_pages
from ledger.epcis import api as epcis_api
from ledger.identifiers import api as identifiers_api
from ledger.identifiers import resolver_api
from ledger.log_service import LogBundleSource
from ledger.service import record_evidence
from ledger.signing import log_signer
from ledger.trace_sources import RegistryItemSource
from ledger.trace_view import install_trace_sources
from tradeloom import health
from tradeloom.body_limit import BodySizeLimitMiddleware
from tradeloom.db import make_engine, make_sessionmaker
from tradeloom.errors import install_error_handlers
from tradeloom.identity import api as identity_api
from tradeloom.jobs import async_redis, require_url
from tradeloom.observability import (
    RequestContextMiddleware,
    metrics_endpoint,
    metrics_registry,
    stamp_records_with_request_id,
)
from tradeloom.settings import Settings, get_settings
from tradeloom.sites import api as sites_api
from tradeloom.storage_errors import install_storage_error_handlers
from tradeloom.web import admin_pages, pages
from tradeloom.web.i18n import load_translations
from tradeloom.web.templating import STATIC_DIR

API_ROUTERS = (
    health.router,
    identity_api.router,
    sites_api.router,
    identifiers_api.router,
    resolver_api.router,
    epcis_api.router,
    epcis_api.trace_router,
    changes_api.router,
    webhooks_api.router,
    bulk_api.router,
    external_ids_api.router,
    connectors_api.router,
    crm_api.router,
    qualifications_api.router,
    edi_api.router,
    punchout_api.router,
    *catalog_api.routers,
    catalog_search_api.router,
    *catalog_governance.ROUTERS,
    *rfq_api.routers,
    *contracts_api.routers,
    *orders_api.routers,
    *logistics_api.routers,
    ledger_api.notes,
    ledger_api.router,
    ledger_files_api.router,
    settlement_api.router,
    tax_rates_api.router,
    stripe_api.router,
    account_statements_api.router,
    finance_api.router,
    iot_api.router,
    supplier_performance_api.router,
)

# Routes that take files (a drawing, a fapiao PDF, photos) get their own, larger body limit; data files that are
# parsed in memory (catalogue imports, EDI interchanges, bank statements) keep the general one.
FILE_UPLOAD_PATHS = (
    "/api/v1/catalog/materials/*/attachments",
    "/api/v1/settlement/invoices/*/fapiao-file",
    "/api/v1/logistics/receipts/*/photos",
)

API_DESCRIPTION = """Tradeloom: catalogue → RFQ → contract → order → shipment → receipt → invoice → payment.

Errors are RFC 9457 problem+json with a stable `code`. Writes that create or change documents accept
`Idempotency-Key`; updates require `If-Match` with the ETag you read."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the database engine and Redis client live from startup to shutdown."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(
            require_url(settings.database_url, "DATABASE_URL"),
            pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
        )
        app.state.sessionmaker = make_sessionmaker(app.state.engine)
        app.state.redis = async_redis(settings.redis_url)
        yield
        await app.state.redis.aclose()
        await app.state.engine.dispose()

    app = FastAPI(title="Tradeloom", version="0.1.0", description=API_DESCRIPTION, lifespan=lifespan,
                  docs_url="/api/docs", openapi_url="/api/openapi.json", redoc_url=None)
    app.state.settings = settings
    app.state.signing_secret = settings.signing_secret()
    app.state.translations = load_translations()
    app.state.metrics_registry = metrics_registry(settings.prometheus_multiproc_dir)
    stamp_records_with_request_id()
    install_error_handlers(app)
    install_storage_error_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, larger_for={
        "/api/v1/bulk/**": settings.bulk_max_body_bytes,
        **dict.fromkeys(FILE_UPLOAD_PATHS, settings.file_upload_max_bytes),
    })
    app.add_middleware(RequestContextMiddleware)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    catalog_governance.install(record_evidence=record_evidence)
    for router in API_ROUTERS:
        app.include_router(router)
    pages.install(app)
    rfq_pages.install(app)
    qualification_pages.install(app)
    contract_pages.install(app)
    order_pages.install(app)
    logistics_pages.install(app)
    app.state.order_placer = OrdersPlacer()
    app.include_router(admin_pages.router)
    ledger_pages.install(app)
    catalog_pages.install(app)
    integration_pages.install(app)
    settlement_pages.install(app)
    tax_rate_pages.install(app)
    edi_pages.install(app)
    punchout_pages.install(app)
    iot_pages.install(app)
    install_trace_sources(RegistryItemSource(), LogBundleSource(log_signer(settings).verifier_key))
    catalog_jobs.subscribe_jobs()
    settlement_jobs.subscribe_jobs()
    payment_port.install_gate(PrepaymentGate())  # orders ask settlement before production and shipping
    stripe_api.install(app)
    account_statement_pages.install(app)
    stripe_pages.install(app)
    finance_pages.install(app)
    supplier_performance_pages.install(app)
    return app

