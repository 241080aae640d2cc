"""The simulator's "true world": history to learn from, days to plan, plans replayed.

Its own part, beside the model it tests: the ETA model learns only from the files the
simulator writes, and a plan made with any ETA is judged by driving it here.
"""

from fleetroute.simulator.oracle import WorldEta
from fleetroute.simulator.world import TrueWorld, replay, simulate_history, simulate_orders

__all__ = ["TrueWorld", "WorldEta", "replay", "simulate_history", "simulate_orders"]
