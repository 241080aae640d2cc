"""Download a map: the drivable roads of a place from OpenStreetMap (needs network)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["fetch"]


def fetch(place: str, out: str | Path) -> int:
    """Download the drivable roads of ``place`` with OSMnx, save them as GraphML to ``out``
    and return the number of nodes. Planning never downloads; this is the one call that
    does (OpenStreetMap's Overpass API)."""
    import osmnx as ox

    graph = ox.graph_from_place(place, network_type="drive")
    ox.save_graphml(graph, out)
    return len(graph)
