"""Typed ledger errors: every refused operation leaves the database as it was.

Each is an `InputError`, so the CLI prints one line naming the SKU, location or
reservation at fault and exits 2; callers that care can catch the precise type.
"""

from __future__ import annotations

from wms.errors import InputError


class LedgerError(InputError):
    """An operation the ledger refused; nothing was written."""


class InvalidQuantity(LedgerError):
    """A quantity that is not a positive whole number."""


class UnknownSku(LedgerError):
    """A SKU the ledger has never been told about."""


class UnknownLocation(LedgerError):
    """A location id the ledger does not hold."""


class UnknownReservation(LedgerError):
    """A reservation id that does not exist or is already fully consumed."""


class UnknownTransfer(LedgerError):
    """A transfer id that does not exist or has already fully arrived."""


class InsufficientStock(LedgerError):
    """Taking more than is available (on hand minus reserved) would go negative."""


class NotSold(LedgerError):
    """A return for a SKU (or more units of it) than the ledger has ever picked."""


class WrongStorageZone(LedgerError):
    """Putting a SKU of a storage class (lithium, flammable, cold) into a storage location
    outside the zones of its kind; or a class whose zone kind the ledger has no location in."""


class DuplicateRecord(LedgerError):
    """A SKU or location added twice with different data."""


class UnsupportedDatabase(LedgerError):
    """A database URL this build cannot open as a ledger: a scheme, a folder, a foreign file."""


class NotALedger(UnsupportedDatabase):
    """A database that holds no ledger: empty where one must exist, or someone else's
    tables; or, as a copy's target, one that is not empty."""


def first_line(error: BaseException) -> str:
    """The first line of a driver's error (its detail and hint lines dropped), for a
    one-line message; ``?`` for an error without text."""
    return (str(error).strip().splitlines() or ["?"])[0]
