"""Storage classes on the floor: which locations a SKU of each class may occupy.

A SKU with a storage class (`wms.catalog.StorageClass`: lithium batteries,
flammables, temperature-controlled goods) may only be stored in a zone of
its class's kind (`fire_safe`, `cold`); storage zones are reserved for their
classes, so general goods stay out of them. A location is in a zone when its
rack cell — where the goods stand — is. A class whose zone kind the floor
does not have is a configuration error naming the class and a SKU of it,
never a silent placement elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wms.catalog import Catalog
from wms.errors import InputError
from wms.layout import Floor, ZoneKind
from wms.layout.zones import GENERAL_STORAGE, location_groups

GENERAL = GENERAL_STORAGE


class StorageClassError(InputError):
    """A storage class the floor has no zone for, or too few locations in its zones."""


@dataclass(frozen=True, eq=False)
class StorageAreas:
    """Group of each location and of each SKU: a SKU may only occupy locations of its group.

    Group 0 is general storage (outside every storage zone); group ``k`` is
    ``kinds[k - 1]``.
    """

    kinds: tuple[ZoneKind, ...]
    location_group: np.ndarray
    sku_group: np.ndarray

    def allowed(self) -> np.ndarray:
        """``[SKUs, locations]`` bool: where each SKU may be slotted."""
        return self.sku_group[:, None] == self.location_group[None, :]

    def group_name(self, group: int) -> str:
        return "general storage" if group == GENERAL else f"{self.kinds[group - 1].value} zone"


def storage_areas(floor: Floor, catalog: Catalog, skus: Sequence[str]) -> StorageAreas:
    """Groups of the floor's locations and of ``skus``; `StorageClassError` for a missing zone."""
    kinds, groups = location_groups(floor)
    sku_group = np.zeros(len(skus), dtype=np.int64)
    for i, sku in enumerate(skus):
        storage = catalog[sku].storage_class
        kind = storage.zone_kind
        if kind is None:
            continue
        number = kinds.index(kind) + 1
        if not (groups == number).any():
            raise StorageClassError(
                f"{floor.name}: storage class {storage.value}",
                f"SKU {sku} needs a {kind.value} zone holding storage locations; "
                f"the floor has none (add a [[floor.zones]] of kind {kind.value!r})",
            )
        sku_group[i] = number
    return StorageAreas(kinds, groups, sku_group)


def allowed_location_ids(
    floor: Floor, catalog: Catalog, skus: Sequence[str]
) -> dict[str, frozenset[str]]:
    """For each SKU the ids of the locations its storage area holds (replenishment, stocking)."""
    areas = storage_areas(floor, catalog, skus)
    ids = np.array([loc.location_id for loc in floor.locations], dtype=object)
    by_group = {
        int(g): frozenset(ids[areas.location_group == g]) for g in np.unique(areas.sku_group)
    }
    return {sku: by_group[int(g)] for sku, g in zip(skus, areas.sku_group, strict=True)}
