"""The SKU catalogue: what each stock-keeping unit is physically.

Slotting needs a SKU's size and weight (does it fit a slot, is it heavy), and
batching needs them to fill totes without overflowing. Where the real figures
are unknown — the UCI Online Retail data has stock codes but no dimensions —
`derived_catalog` makes up plausible ones *deterministically from the stock
code*, so every run and every machine agrees, and callers are told the
catalogue is synthetic (`Catalog.synthetic`).
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from wms.errors import InputError
from wms.inventory_types import StorageClass

CATEGORIES = ("general", "home", "kitchen", "toys", "stationery", "electronics", "garden")
CATALOG_COLUMNS = ("sku", "length_cm", "width_cm", "height_cm", "weight_kg", "category")


class UnknownSkuError(InputError):
    """An order or a request names a SKU the catalogue does not have."""


@dataclass(frozen=True, slots=True)
class Sku:
    """One stock-keeping unit; dimensions of one unit in centimetres, weight in kg."""

    sku_id: str
    length_cm: float
    width_cm: float
    height_cm: float
    weight_kg: float
    category: str = "general"
    unit_price: float | None = None
    storage_class: StorageClass = StorageClass.GENERAL

    @property
    def volume_l(self) -> float:
        """Volume of one unit in litres (1 L = 1000 cm³)."""
        return self.length_cm * self.width_cm * self.height_cm / 1000.0

    @property
    def dims_sorted(self) -> tuple[float, float, float]:
        """Dimensions largest first, to test fit regardless of orientation."""
        a, b, c = sorted((self.length_cm, self.width_cm, self.height_cm), reverse=True)
        return (a, b, c)


@dataclass(frozen=True)
class Catalog(Mapping[str, Sku]):
    """SKUs by id. ``synthetic`` says the dimensions were generated, not measured."""

    skus: Mapping[str, Sku]
    synthetic: bool = False
    note: str = ""
    _order: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_order", tuple(self.skus))

    def __getitem__(self, sku_id: str) -> Sku:
        return self.skus[sku_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def require(self, sku_id: str, source: str) -> Sku:
        """The SKU, or `UnknownSkuError` naming ``source`` (a file and row)."""
        sku = self.skus.get(sku_id)
        if sku is None:
            raise UnknownSkuError(source, f"unknown SKU {sku_id!r} (not in the catalogue)")
        return sku


def _random_sku(sku_id: str, rng: np.random.Generator, unit_price: float | None) -> Sku:
    """Small parcel-sized goods: log-normal sides around 7 cm, density ~0.3 kg/L."""
    sides = np.clip(rng.lognormal(mean=np.log(7.0), sigma=0.45, size=3), 2.0, 40.0)
    length, width, height = (round(float(v), 1) for v in sides)
    volume_l = length * width * height / 1000.0
    density = float(rng.uniform(0.1, 0.6))
    weight = round(max(0.02, volume_l * density), 3)
    category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
    return Sku(sku_id, length, width, height, weight, category, unit_price)


def derived_catalog(
    sku_ids: Iterable[str],
    prices: Mapping[str, float] | None = None,
    seed: int = 0,
) -> Catalog:
    """Plausible dimensions for SKUs known only by id, seeded by each id.

    The same stock code always gets the same dimensions (CRC32 of the code and
    ``seed`` seeds its generator), whatever other SKUs are in the file.
    """
    prices = prices or {}
    skus: dict[str, Sku] = {}
    for sku_id in sku_ids:
        if sku_id in skus:
            continue
        rng = np.random.default_rng([zlib.crc32(sku_id.encode("utf-8")), seed])
        skus[sku_id] = _random_sku(sku_id, rng, prices.get(sku_id))
    return Catalog(
        skus,
        synthetic=True,
        note="dimensions and weights are synthetic, derived deterministically from the SKU id",
    )


def sku_code(number: int) -> str:
    """The id of the ``number``-th SKU (from 1) of the synthetic catalogue: ``SKU-0001`` ….

    The one SKU scheme of the embedded defaults: the demo ledger
    (`wms.ledger.demo.demo_skus`) names its SKUs the same way, so the
    synthetic order stream plans and releases into the demo ledger.
    """
    return f"SKU-{number:04d}"


def synthetic_catalog(count: int, seed: int = 0) -> Catalog:
    """The embedded default catalogue: ``SKU-0001`` … with seeded dimensions and prices."""
    if count <= 0:
        raise InputError("catalog", f"needs at least one SKU, got {count}")
    rng = np.random.default_rng(seed)
    ids = [sku_code(i) for i in range(1, count + 1)]
    prices = {s: round(float(rng.lognormal(np.log(8.0), 0.8)), 2) for s in ids}
    return derived_catalog(ids, prices, seed)


def read_catalog_csv(path: str | Path) -> Catalog:
    """A measured catalogue.

    Columns ``sku, length_cm, width_cm, height_cm, weight_kg, category`` and
    optionally ``unit_price`` and ``storage_class`` (`StorageClass`; empty is
    general).
    """
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise InputError(str(path), error.strerror or "cannot be read") from None
    skus: dict[str, Sku] = {}
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in CATALOG_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{path}:1", f"missing column(s) {', '.join(missing)}")
        for row_number, raw in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            where = f"{path}:{row_number}"
            sku_id = row["sku"]
            if not sku_id:
                raise InputError(where, "empty sku")
            if sku_id in skus:
                raise InputError(where, f"duplicate SKU {sku_id!r}")
            values = [_positive(row[c], c, where) for c in CATALOG_COLUMNS[1:5]]
            price_text = row.get("unit_price", "")
            price = _positive(price_text, "unit_price", where) if price_text else None
            storage = StorageClass.parse(row.get("storage_class", ""), f"{where}: storage_class")
            skus[sku_id] = Sku(
                sku_id,
                *values,
                category=row["category"] or "general",
                unit_price=price,
                storage_class=storage,
            )
    if not skus:
        raise InputError(str(path), "no SKUs")
    return Catalog(skus)


def _positive(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(where, f"{column} {text!r} is not a number") from None
    if not value > 0:
        raise InputError(where, f"{column} must be positive, got {text!r}")
    return value
