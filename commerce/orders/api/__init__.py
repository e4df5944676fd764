"""``/api/v1/orders``: orders and their steps, change orders, approval rules and budgets."""

from fastapi import APIRouter

from commerce.orders.api import approval_rules, changes, orders

# approval_rules and changes first: their fixed paths must win over ``/{order_id}/{step}``.
routers: tuple[APIRouter, ...] = (approval_rules.router, changes.router, orders.router)
