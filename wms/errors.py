"""The shared errors (`core.errors`), where wms and older code import them from.

The classes are those of the base, not copies: ``wms.errors.InputError is
core.errors.InputError``, so an ``except`` on either catches both.
"""

from core.errors import ConfigError, InputError, WarehouseError

__all__ = ["ConfigError", "InputError", "WarehouseError"]
