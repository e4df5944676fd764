"""Statement pages: the statement with a counterparty, its confirmation, and the printable document."""

from pathlib import Path

from fastapi import FastAPI

from tradeloom.web.templating import add_template_dir


def install(app: FastAPI) -> None:
    """Templates of the statement document and pages."""
    add_template_dir(Path(__file__).resolve().parent / "templates")
