"""``/api/v1/catalog``: classes, materials, attachments, offers, price lists, price queries and comparison."""

from fastapi import APIRouter

from catalog.api import materials, offers, prices

routers: tuple[APIRouter, ...] = (materials.router, offers.router, prices.router)
