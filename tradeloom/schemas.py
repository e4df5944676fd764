"""Base pydantic models: inputs refuse unknown fields, outputs read from ORM attributes."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ApiModel(BaseModel):
    """Response bodies built from ORM objects."""

    model_config = ConfigDict(from_attributes=True)
