"""Picking: waves, batches, OR-Tools pick routes, heuristic baselines, lower bounds, paths."""

from wms.picking.aisles import Aisles, AisleSegment, find_aisles
from wms.picking.batching import BatchCapacity, seed_closest_batches
from wms.picking.bounds import exact_tour_length, one_tree_bound, tour_lower_bound
from wms.picking.heuristics import (
    Heuristic,
    combined_waypoints,
    heuristic_lengths,
    largest_gap_waypoints,
    sshape_waypoints,
)
from wms.picking.paths import leg_path, route_path
from wms.picking.plan import Batch, Pick, PickingParams, PlannedWave, WavePlan, plan_waves
from wms.picking.routing import RouteSearch, solve_tour, tour_length
from wms.picking.waves import Wave, make_waves

__all__ = [
    "AisleSegment",
    "Aisles",
    "Batch",
    "BatchCapacity",
    "Heuristic",
    "Pick",
    "PickingParams",
    "PlannedWave",
    "RouteSearch",
    "Wave",
    "WavePlan",
    "combined_waypoints",
    "exact_tour_length",
    "find_aisles",
    "heuristic_lengths",
    "largest_gap_waypoints",
    "leg_path",
    "make_waves",
    "one_tree_bound",
    "plan_waves",
    "route_path",
    "seed_closest_batches",
    "solve_tour",
    "sshape_waypoints",
    "tour_length",
    "tour_lower_bound",
]
