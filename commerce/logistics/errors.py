"""Logistics refusals with stable codes (rendered as problem+json by the kit's handlers)."""

from tradeloom.errors import Conflict, Invalid, NotFound


class StockShort(Conflict):
    """Not enough free stock for an issue, transfer or shipment (nothing was changed)."""

    default_code = "stock_insufficient"


class QuantityInvalid(Invalid):
    default_code = "quantity_invalid"


class ShipmentNotFound(NotFound):
    default_code = "shipment_not_found"


class WarehouseNotFound(NotFound):
    default_code = "warehouse_not_found"
