"""Logistics API: stock and reservations, shipments with their papers, tracking and goods receipts."""

from fastapi import APIRouter

from commerce.logistics.api import shipments, stock

routers: tuple[APIRouter, ...] = (stock.router, shipments.router)
