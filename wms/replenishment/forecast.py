"""Demand forecast and safety stock: simple exponential smoothing.

Level ``l_t = a*d_t + (1-a)*l_{t-1}``; the forecast error's variance is smoothed
the same way (``s2_t = a*e_t^2 + (1-a)*s2_{t-1}`` with ``e_t = d_t - l_{t-1}``),
so sigma follows the SKU's current volatility rather than its whole history.
Safety stock ``z * sigma * sqrt(L)`` covers demand variability over a lead
time of ``L`` periods at the service level ``z`` stands for (1.65 ≈ 95 %).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Forecast:
    """Per-period demand level and the standard deviation of one-period forecast error."""

    level: float
    sigma: float
    periods: int


def smooth(demand: Sequence[float], alpha: float) -> Forecast:
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if not demand:
        return Forecast(0.0, 0.0, 0)
    level = float(demand[0])
    mean = sum(demand) / len(demand)
    variance = sum((d - mean) ** 2 for d in demand) / max(len(demand) - 1, 1)
    for value in demand[1:]:
        error = value - level
        variance = alpha * error * error + (1.0 - alpha) * variance
        level = alpha * value + (1.0 - alpha) * level
    return Forecast(level, math.sqrt(variance), len(demand))


def safety_stock(sigma: float, lead_time: float, z: float) -> float:
    """``z * sigma * sqrt(lead_time)``; sigma per period, lead time in the same periods."""
    if sigma < 0 or lead_time < 0:
        raise ValueError("sigma and lead time must be >= 0")
    return z * sigma * math.sqrt(lead_time)


def reorder_point(forecast: Forecast, lead_time: float, z: float) -> float:
    """Expected demand over the lead time plus safety stock."""
    return forecast.level * lead_time + safety_stock(forecast.sigma, lead_time, z)
