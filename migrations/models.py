"""Every package's models, imported so that ``Base.metadata`` knows every table (autogenerate, tests).

A package with tables adds its models module to ``MODEL_MODULES``.
"""

from catalog import models as catalog_models
from commerce.orders import models as order_models
from ledger import models as ledger_models
from tradeloom import audit, idempotency
from tradeloom.db import Base
from tradeloom.identity import models as identity_models
from tradeloom.outbox import models as outbox_models
from tradeloom.sites import models as sites_models

MODEL_MODULES = (audit, idempotency, identity_models, outbox_models, sites_models, ledger_models, catalog_models,
                 order_models)
target_metadata = Base.metadata
