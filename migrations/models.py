"""Every package's models, imported so that ``Base.metadata`` knows every table (autogenerate, tests)."""

import tradeloom.audit
import tradeloom.idempotency
import tradeloom.identity.models
import tradeloom.outbox.models
import tradeloom.sites.models  # noqa: F401
from tradeloom.db import Base

target_metadata = Base.metadata
