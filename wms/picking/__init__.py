"""Picking: waves, batches, OR-Tools pick routes, S-shape baselines, lower bounds, paths."""

from wms.picking.batching import BatchCapacity, seed_closest_batches
from wms.picking.bounds import exact_tour_length, one_tree_bound, tour_lower_bound
from wms.picking.paths import leg_path, route_path
from wms.picking.plan import Batch, Pick, PickingParams, PlannedWave, WavePlan, plan_waves
from wms.picking.routing import RouteSearch, solve_tour, tour_length
from wms.picking.sshape import Aisles, AisleSegment, find_aisles, sshape_waypoints
from wms.picking.waves import Wave, make_waves

__all__ = [
    "AisleSegment",
    "Aisles",
    "Batch",
    "BatchCapacity",
    "Pick",
    "PickingParams",
    "PlannedWave",
    "RouteSearch",
    "Wave",
    "WavePlan",
    "exact_tour_length",
    "find_aisles",
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
