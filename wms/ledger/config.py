"""The ``[wms.ledger]`` config table: which database the ledger lives in.

```toml
[wms.ledger]
url = "sqlite:///runs/site-a.db"   # relative paths are relative to the working directory
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wms.config_tables import check_keys, get_str, require_table
from wms.ledger.url import parse_url


def ledger_url_from_section(wms_section: Mapping[str, Any], where: str) -> str | None:
    """The configured ledger URL, or None when the config does not name one."""
    if "ledger" not in wms_section:
        return None
    where = f"{where}.ledger"
    table = require_table(wms_section["ledger"], where)
    check_keys(table, ("url",), where)
    url = get_str(table, "url", where)
    parse_url(url)
    return url
