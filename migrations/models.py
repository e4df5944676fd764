"""Every package's models, imported so that ``Base.metadata`` knows every table (autogenerate, tests).

A package with tables adds its models module to ``MODEL_MODULES``.
"""

from catalog import models as catalog_models
from catalog.governance import models as governance_models
from catalog.imports import models as import_models
from catalog.search import models as search_models
from commerce.contracts import models as contract_models
from commerce.logistics import models as logistics_models
from commerce.orders import models as order_models
from commerce.qualifications import models as qualification_models
from commerce.rfq import models as rfq_models
from commerce.settlement import invoice_models as settlement_invoice_models
from commerce.settlement import milestone_models as settlement_milestone_models
from commerce.settlement import models as settlement_models
from commerce.settlement.account_statements import models as account_statement_models
from commerce.settlement.finance import models as finance_models
from commerce.settlement.stripe import models as stripe_models
from commerce.settlement.tax_rates import models as tax_rate_models
from commerce.supplier_performance import models as supplier_performance_models
from integrations.bulk import models as bulk_models
from integrations.connectors import models as connector_models
from integrations.crm import models as crm_models
from integrations.edi import models as edi_models
from integrations.external_ids import models as external_id_models
from integrations.punchout import models as punchout_models
from integrations.webhooks import models as webhooks_models
from iot_bridge import models as iot_models
from ledger import log_models as ledger_log_models
from ledger import models as ledger_models
from ledger.epcis import models as epcis_models
from ledger.identifiers import models as identifiers_models
from tradeloom import audit, idempotency
from tradeloom.db import Base
from tradeloom.identity import models as identity_models
from tradeloom.outbox import models as outbox_models
from tradeloom.sites import models as sites_models

MODEL_MODULES = (
    audit,
    idempotency,
    identity_models,
    outbox_models,
    sites_models,
    ledger_models,
    identifiers_models,
    epcis_models,
    catalog_models,
    webhooks_models,
    search_models,
    ledger_log_models,
    import_models,
    governance_models,
    rfq_models,
    contract_models,
    order_models,
    settlement_models,
    settlement_invoice_models,
    settlement_milestone_models,
    logistics_models,
    external_id_models,
    bulk_models,
    connector_models,
    stripe_models,
    tax_rate_models,
    account_statement_models,
    finance_models,
    edi_models,
    punchout_models,
    iot_models,
    supplier_performance_models,
    qualification_models,
    crm_models,
)
target_metadata = Base.metadata
