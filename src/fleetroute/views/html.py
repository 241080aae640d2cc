"""Self-contained HTML views of a plan: the dispatcher's map, and the one-page plan report.

The pages carry Leaflet (vendored, BSD-2, in ``vendor/``) and the plan's GeoJSON inline, so
they open from a file with no network: routes, stops, depots, stores and unassigned orders
are vector layers. Map tiles (OpenStreetMap) are a background added when reachable; without
them the routes still draw on a blank canvas.

For tests and scripts, the page records how it went on ``<body>``: ``data-legs`` (leg lines
drawn), ``data-stops`` (stop markers) and ``data-errors`` (script errors caught).
"""

from __future__ import annotations

import html
import json
from importlib import resources
from typing import Any

import pandas as pd

__all__ = ["map_html", "report_html"]

_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _vendor(name: str) -> str:
    return resources.files("fleetroute.views").joinpath("vendor", name).read_text("utf-8")


_STYLE = """
body { margin: 0; font: 14px/1.35 system-ui, sans-serif; color: #222; }
.stop-pin { border-radius: 50%; color: #fff; font: bold 11px/20px sans-serif;
  text-align: center; width: 20px; height: 20px; border: 1px solid #fff;
  box-shadow: 0 0 2px #000; }
.depot-pin { background: #222; color: #fff; font: bold 12px/22px sans-serif;
  text-align: center; width: 22px; height: 22px; }
.store-pin { background: #fff; color: #222; border: 2px solid #222; font: bold 11px/18px
  sans-serif; text-align: center; width: 18px; height: 18px; border-radius: 3px; }
.leaflet-control-layers i { display: inline-block; width: 18px; height: 4px; margin-right: 6px;
  vertical-align: middle; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; text-align: right; }
th { border-bottom: 1px solid #999; } td:first-child, th:first-child { text-align: left; }
"""

# The map script: reads DATA (the GeoJSON) and TILES; marks <body> with what it drew.
_SCRIPT = """
(function () {
  var body = document.body;
  body.dataset.errors = "0";
  window.addEventListener("error", function () {
    body.dataset.errors = String(Number(body.dataset.errors) + 1);
  });
  var map = L.map("map", { zoomControl: true, zoomSnap: 0.25 });
  if (TILES) {
    L.tileLayer(TILES, { maxZoom: 19,
      attribution: "&copy; OpenStreetMap contributors" }).addTo(map);
  }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function hhmm(t) { return t ? esc(String(t).slice(11, 16)) : ""; }
  var byVehicle = {}, colours = {}, legs = 0, stops = 0, all = L.featureGroup();
  function group(v) {
    if (!byVehicle[v]) { byVehicle[v] = L.featureGroup().addTo(map); }
    return byVehicle[v];
  }
  DATA.features.forEach(function (f) {
    var p = f.properties, c = f.geometry.coordinates, layer;
    if (p.feature === "leg") {
      layer = L.polyline(c.map(function (x) { return [x[1], x[0]]; }),
        { color: p.colour, weight: 4, opacity: 0.85 });
      layer.bindPopup("<b>" + esc(p.vehicle_id) + "</b> leg " + p.from_seq + "&rarr;" +
        p.to_seq + "<br>" + hhmm(p.departure) + "&ndash;" + hhmm(p.arrival) + ", " +
        (p.distance_m / 1000).toFixed(1) + " km");
      colours[p.vehicle_id] = p.colour;
      layer.addTo(group(p.vehicle_id));
      legs += 1;
    } else if (p.feature === "stop") {
      var label = p.kind === "break" ? "&#9749;" :
        (p.kind === "pickup" ? "P" : (p.kind === "reload" ? "R" : p.seq));
      layer = L.marker([c[1], c[0]], { icon: L.divIcon({ className: "",
        html: '<div class="stop-pin" style="background:' + p.colour + '">' + label + "</div>",
        iconSize: [20, 20] }) });
      layer.bindPopup("<b>" + esc(p.order_id || p.kind) + "</b> (" + esc(p.kind) + ", " +
        esc(p.vehicle_id) + " stop " + p.seq + ")<br>ETA " + hhmm(p.arrival) +
        (p.window_start ? "<br>window " + hhmm(p.window_start) + "&ndash;" +
          hhmm(p.window_end) : "") +
        (p.skills ? "<br>skills " + esc(p.skills) : "") +
        (p.late_s > 0 ? "<br><b>late " + Math.round(p.late_s / 60) + " min</b>" : ""));
      layer.addTo(group(p.vehicle_id));
      stops += 1;
    } else if (p.feature === "depot") {
      layer = L.marker([c[1], c[0]], { icon: L.divIcon({ className: "",
        html: '<div class="depot-pin">D</div>', iconSize: [22, 22] }) }).addTo(map);
      layer.bindPopup("<b>depot</b><br>" + esc((p.vehicle_ids || []).join(", ")));
    } else if (p.feature === "store") {
      layer = L.marker([c[1], c[0]], { icon: L.divIcon({ className: "",
        html: '<div class="store-pin">S</div>', iconSize: [18, 18] }) }).addTo(map);
      layer.bindPopup("<b>store " + esc(p.store_id) + "</b>");
    } else if (p.feature === "unassigned") {
      layer = L.circleMarker([c[1], c[0]], { radius: 6, color: p.colour,
        fillColor: p.colour, fillOpacity: 0.8 }).addTo(map);
      layer.bindPopup("<b>" + esc(p.order_id) + "</b> not planned:<br>" + esc(p.reason));
    }
    if (layer) { all.addLayer(layer); }
  });
  var bounds = all.getBounds();
  if (bounds.isValid()) { map.fitBounds(bounds.pad(0.05)); } else { map.setView([0, 0], 2); }
  var names = Object.keys(byVehicle);
  if (names.length) {
    var overlays = {};
    names.forEach(function (v) {
      overlays['<i style="background:' + (colours[v] || "#888") + '"></i>' + esc(v)] =
        byVehicle[v];
    });
    L.control.layers(null, overlays, { collapsed: names.length > 12 }).addTo(map);
  }
  body.dataset.legs = String(legs);
  body.dataset.stops = String(stops);
})();
"""


#: JSON characters that could end a <script> or open an HTML comment inside one, as the
#: escapes JavaScript reads back to the same characters.
_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _script_json(value: Any) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element: no ``<``, ``>``
    or ``&`` (an id such as ``</script>`` or ``<!--<script>`` would end or hide the
    script) and no line separators (ASCII only)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    for char, escape in _SCRIPT_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def _page(title: str, body: str, geojson: dict[str, Any], *, tiles: bool) -> str:
    data = _script_json(geojson)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title>",
            f"<style>{_vendor('leaflet.css')}</style>",
            f"<style>{_STYLE}</style>",
            f"<script>{_vendor('leaflet.js')}</script>",
            "</head><body>",
            body,
            f"<script>var DATA = {data}; var TILES = {_script_json(_TILES if tiles else '')};",
            f"{_SCRIPT}</script>",
            "</body></html>",
        ]
    )


def map_html(geojson: dict[str, Any], *, title: str = "fleetroute plan", tiles: bool = True) -> str:
    """A full-window map of a plan's GeoJSON (:func:`fleetroute.views.routes_geojson`):
    each vehicle's route in its colour with numbered stops, depots (D), stores (S) and the
    unassigned orders in grey; popups give order, ETA, window and reasons."""
    return _page(title, '<div id="map" style="position:absolute;inset:0"></div>', geojson,
                 tiles=tiles)  # fmt: skip


def report_html(
    geojson: dict[str, Any],
    *,
    kpis: dict[str, str],
    vehicles: pd.DataFrame,
    timeline_svg: str,
    unassigned: pd.DataFrame,
    title: str = "fleetroute plan report",
    tiles: bool = True,
) -> str:
    """One page: the KPIs, the map, the per-vehicle table, the route timeline (an inline
    SVG) and the unassigned orders with their reasons."""
    cards = "".join(
        f'<div style="display:inline-block;margin:0 18px 8px 0"><div style="color:#666">'
        f"{html.escape(k)}</div><div style='font-size:22px'>{html.escape(v)}</div></div>"
        for k, v in kpis.items()
    )
    left = (
        "<h2>Unassigned orders</h2>" + unassigned.to_html(index=False, border=0)
        if len(unassigned)
        else ""
    )
    body = f"""
<div style="padding:12px 18px">
<h1 style="margin:0 0 8px">{html.escape(title)}</h1>
<div>{cards}</div>
<div id="map" style="height:460px;border:1px solid #ccc"></div>
<h2>Vehicles</h2>
{vehicles.to_html(index=False, border=0)}
<h2>Timeline</h2>
<p style="color:#666">Per vehicle: driving (colour), waiting (light grey), service (dark),
breaks (hatched).</p>
{timeline_svg}
{left}
</div>"""
    return _page(title, body, geojson, tiles=tiles)
