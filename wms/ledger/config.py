"""The ``[wms.ledger]`` config table: which database the ledger lives in.

```toml
[wms.ledger]
url = "sqlite:///runs/site-a.db"   # relative paths are relative to the working directory
```
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Where
from wms.ledger.errors import UnsupportedDatabase
from wms.ledger.url import parse_url


@dataclass(frozen=True, slots=True)
class LedgerSection:
    url: str

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: the URL is one the ledger can open."""
        try:
            parse_url(self.url)
        except UnsupportedDatabase as error:
            raise (where / "url").error(str(error)) from None
