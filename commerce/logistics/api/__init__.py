"""Logistics API: stock and reservations, shipments with their papers, tracking, goods receipts, returns and
freight quotes."""

from fastapi import APIRouter

from commerce.logistics.api import returns, shipments, stock

routers: tuple[APIRouter, ...] = (stock.router, shipments.router, returns.router)
