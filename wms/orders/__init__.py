"""Orders: the model, CSV import (own format and UCI Online Retail), the synthetic stream."""

from wms.orders.csv_import import (
    BadDateError,
    BadQuantityError,
    OrderBook,
    read_orders_csv,
)
from wms.orders.generator import OrderProfile, generate_orders
from wms.orders.model import (
    Order,
    OrderException,
    OrderLine,
    OversizeOrderError,
    Priority,
    Tote,
    tote_loads,
)

__all__ = [
    "BadDateError",
    "BadQuantityError",
    "Order",
    "OrderBook",
    "OrderException",
    "OrderLine",
    "OrderProfile",
    "OversizeOrderError",
    "Priority",
    "Tote",
    "generate_orders",
    "read_orders_csv",
    "tote_loads",
]
