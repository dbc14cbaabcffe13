"""The site database's whole schema: the ledger's part and the fleet's.

One database holds a site (docs/operations.md): the ledger's tables
(`wms.ledger.schema.LEDGER_SCHEMA`), the task log (`fleet.manager.store`) and the
robots' durable state (`fleet.manager.durable`). `SITE_SCHEMA` lists every part, so
what reads or writes the database as a whole — `copy_site`, which moves a site from
SQLite to PostgreSQL, and `check_site`, its read-only health check — covers a
table as soon as its part declares it.
"""

from __future__ import annotations

from pathlib import Path

from fleet.manager.durable import DURABLE_SCHEMA
from fleet.manager.store import TASK_LOG_SCHEMA
from wms.ledger.schema import LEDGER_SCHEMA
from wms.ledger.site_check import DEFAULT_OLDER_THAN_S, SiteHealth
from wms.ledger.site_check import check_site as check_parts
from wms.ledger.site_copy import CopyReport
from wms.ledger.site_copy import copy_site as copy_parts

SITE_SCHEMA = (LEDGER_SCHEMA, TASK_LOG_SCHEMA, DURABLE_SCHEMA)
"""Every part of the site database, the ledger first (the fleet's rows refer to nothing
of it by key, so any order of the fleet's parts would do)."""


def copy_site(source: str | Path, target: str | Path) -> CopyReport:
    """Copy the whole site database ``source`` into the new, empty ``target``
    (`wms.ledger.site_copy`: read-only source, one verified target transaction)."""
    return copy_parts(source, target, SITE_SCHEMA)


def check_site(url: str | Path, older_than_s: float = DEFAULT_OLDER_THAN_S) -> SiteHealth:
    """Check the whole site database ``url`` without writing to it
    (`wms.ledger.site_check`: schema, row counts, balance, held transactions)."""
    return check_parts(url, SITE_SCHEMA, older_than_s)
