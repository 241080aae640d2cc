"""The service's pages for people: the recent plans of a key, with their KPIs."""

from __future__ import annotations

import html
import json
import time
from typing import Any

__all__ = ["page_home", "page_login"]

_STYLE = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:right}td:first-child,th:first-child{text-align:left}.failed{color:#b00}"""


def _page(title: str, body: str, marks: dict[str, str]) -> str:
    data = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in marks.items())
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{html.escape(title)}</title><style>{_STYLE}</style></head><body {data}>{body}"
        "</body></html>"
    )


def page_login(problem: str) -> str:
    """Where a person without a key lands."""
    note = f"<p class=failed>{html.escape(problem)}</p>" if problem else ""
    body = (
        f"<h1>fleetroute</h1>{note}<p>Open <code>/?key=YOUR_KEY</code> once: the key is "
        "kept in this browser (an HttpOnly cookie). Programs send "
        "<code>Authorization: Bearer YOUR_KEY</code>; see <a href=/docs>/docs</a>.</p>"
    )
    return _page("fleetroute", body, {"plans": "0"})


def _kpis(summary: dict[str, Any]) -> list[str]:
    planned = int(summary.get("assigned", 0))
    cost = float(summary.get("objective", 0.0))
    km = float(summary.get("total_distance_m", 0.0)) / 1000
    return [
        f"{planned} of {summary.get('orders', 0)}",
        f"{float(summary.get('on_time_rate', 0.0)):.0%}",
        f"{cost / planned:,.2f}" if planned else "-",
        f"{km / planned:.1f}" if planned else "-",
        str(summary.get("vehicles_used", 0)),
    ]


def page_home(tenant: str, jobs: list[dict[str, Any]]) -> str:
    """The key's latest plans, newest first: status, KPIs, links to map and report."""
    rows = []
    for job in jobs:
        summary = json.loads(job["summary"]) if job["summary"] else {}
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(job["created"]))
        ident = html.escape(job["id"])
        if job["status"] == "done":
            links = (f'<a href="/v1/plans/{ident}/map.html">map</a> '
                     f'<a href="/v1/plans/{ident}/report.html">report</a>')  # fmt: skip
            cells = _kpis(summary)
        else:
            links, cells = html.escape(job["error"] or job["progress"] or ""), [""] * 5
        status = html.escape(job["status"])
        rows.append(
            f'<tr class="{status}"><td>{ident[:8]}</td><td>{when}</td><td>{status}</td>'
            + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
            + f"<td>{links}</td></tr>"
        )
    table = (
        "<table><tr><th>plan</th><th>made</th><th>status</th><th>orders planned</th>"
        "<th>on time</th><th>cost per order</th><th>km per order</th><th>vans</th><th></th>"
        f"</tr>{''.join(rows)}</table>"
        if rows
        else "<p>No plans yet: POST one to <code>/v1/plans</code>.</p>"
    )
    body = f"<h1>fleetroute: plans of {html.escape(tenant)}</h1>{table}"
    done = sum(job["status"] == "done" for job in jobs)
    return _page("fleetroute plans", body, {"plans": str(len(jobs)), "done": str(done)})
