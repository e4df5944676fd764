"""Logistics and warehousing: warehouses and stock, reservations, shipments, tracking, goods receipt, returns."""
