"""External id mappings as the API shows them."""

import datetime as dt
import uuid

from integrations.external_ids.service import ObjectType
from tradeloom.schemas import ApiModel


class ExternalIdOut(ApiModel):
    """Their key (``source_system``, ``object_type``, ``external_id``) and our object's id."""

    id: uuid.UUID
    source_system: str
    object_type: ObjectType
    external_id: str
    object_id: uuid.UUID
    created_at: dt.datetime


class ExternalIdPage(ApiModel):
    items: list[ExternalIdOut]
    next_after: uuid.UUID | None
