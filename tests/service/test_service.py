"""`route serve` as dispatch systems meet it: a real server on 127.0.0.1 (a free port),
called over HTTP with httpx: jobs, files, keys and tenants, limits, bad input, cancel,
and a restart with a job in flight."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from browser import body_marks
from conftest import EXAMPLES, PLAN_DATE

KEYS = {"acme": "acme-key-0001", "other": "other-key-0002"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`route serve` in its own process, on ``data``; started again with :meth:`start`."""

    def __init__(self, data: Path, *extra: str, city: Path = EXAMPLES / "city.graphml") -> None:
        self.data, self.extra, self.city, self.proc = data, extra, city, None
        self.url = ""

    def start(self) -> Server:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "FLEETROUTE_API_KEYS": ",".join(f"{k}:{v}" for k, v in KEYS.items())}
        self.data.mkdir(parents=True, exist_ok=True)
        with open(self.data / "server.log", "a") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fleetroute", "serve", "--map",
                 str(self.city), "--port", str(port), "--data", str(self.data),
                 *self.extra],
                env=env, stderr=log,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, (self.data / "server.log").read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def client(self, who: str = "acme") -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {KEYS[who]}"})  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("service"), "--workers", "2", "--max-orders", "500",
               "--max-body-mb", "0.5").start()  # fmt: skip
    yield s
    s.kill()


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _day(**options) -> dict:
    return {"orders": _rows(EXAMPLES / "orders.csv"), "vehicles": _rows(EXAMPLES / "vehicles.csv"),
            "stores": _rows(EXAMPLES / "stores.csv"), "date": PLAN_DATE.isoformat(),
            "options": {"time_limit": 2, **options}}  # fmt: skip


def _wait(client: httpx.Client, job: str, until=("done", "failed"), limit=90.0):
    deadline = time.monotonic() + limit
    while True:
        doc = client.get(f"/v1/plans/{job}").json()
        if doc["status"] in until:
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)


def test_a_json_plan_is_queued_solved_and_its_files_downloaded(server):
    with server.client() as c:
        r = c.post("/v1/plans", json=_day())
        assert r.status_code == 202 and r.json()["status"] == "queued"
        job = r.json()["id"]
        doc = _wait(c, job)
        assert doc["status"] == "done", doc
        assert doc["plan"]["summary"]["assigned"] == 40 == doc["summary"]["assigned"]
        routes = pd.read_csv(io.StringIO(c.get(f"/v1/plans/{job}/routes.csv").text))
        assert (routes["kind"] == "dropoff").sum() == 40
        geo = c.get(f"/v1/plans/{job}/routes.geojson").json()
        assert geo["type"] == "FeatureCollection" and geo["features"]
        page = c.get(f"/v1/plans/{job}/map.html")
        assert page.headers["content-type"].startswith("text/html") and "var DATA" in page.text
        assert job in [p["id"] for p in c.get("/v1/plans").json()]
        assert c.get(f"/v1/plans/{job}/secrets.txt").status_code == 404


def test_csv_files_uploaded_as_multipart_are_planned(server):
    files = {name: (f"{name}.csv", (EXAMPLES / f"{name}.csv").read_bytes(), "text/csv")
             for name in ("orders", "vehicles", "stores")}  # fmt: skip
    with server.client() as c:
        r = c.post(
            "/v1/plans", files=files, data={"date": PLAN_DATE.isoformat(), "time_limit": "2"}
        )
        assert r.status_code == 202, r.text
        assert _wait(c, r.json()["id"])["summary"]["assigned"] == 40


def test_keys_are_needed_and_a_key_sees_only_its_own_plans(server):
    assert httpx.get(f"{server.url}/v1/plans").status_code == 401
    bad = httpx.get(f"{server.url}/v1/plans", headers={"Authorization": "Bearer nope-nope-nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    with server.client("acme") as acme, server.client("other") as other:
        job = acme.post("/v1/plans", json=_day(time_limit=1)).json()["id"]
        assert other.get(f"/v1/plans/{job}").status_code == 404
        assert other.get(f"/v1/plans/{job}/routes.csv").status_code == 404
        assert other.delete(f"/v1/plans/{job}").status_code == 404
        assert job not in [p["id"] for p in other.get("/v1/plans").json()]
        assert acme.get(f"/v1/plans/{job}").status_code == 200


def test_bad_input_is_422_naming_the_field_or_the_file_row_and_column(server):
    day = _day()
    day["orders"][1]["lat"] = "north"
    with server.client() as c:
        r = c.post("/v1/plans", json=day)
        assert r.status_code == 422
        (detail,) = r.json()["detail"]
        assert detail["loc"] == ["body", "orders", 1, "lat"] and "'north'" in detail["msg"]
        r = c.post("/v1/plans", json={"orders": day["orders"]})
        assert r.status_code == 422 and "vehicles" in json.dumps(r.json())
        r = c.post("/v1/plans", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        text = (EXAMPLES / "orders.csv").read_text().replace("52.384696", "north", 1)
        vehicles = (EXAMPLES / "vehicles.csv").read_bytes()
        files = {"orders": ("orders.csv", text.encode()), "vehicles": ("vehicles.csv", vehicles)}
        r = c.post("/v1/plans", files=files)
        assert r.status_code == 422
        assert "orders.csv: row 3, column 'lat'" in r.json()["detail"][0]["msg"]
        r = c.post("/v1/plans", files=files, data={"date": "2026-13-40"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "date"]
        for answer in (r.text, c.post("/v1/plans", json=day).text):
            assert "Traceback" not in answer and str(EXAMPLES.parent) not in answer


def test_bodies_and_plans_above_the_limits_are_413_with_a_reason(server):
    with server.client() as c:
        big = c.post(
            "/v1/plans", content=b"x" * 600_000, headers={"content-type": "application/json"}
        )
        assert big.status_code == 413 and "limit" in big.json()["detail"]
        many = _day()
        many["orders"] = [{"order_id": f"o{i}", "lat": 52.37, "lon": 4.89} for i in range(501)]
        r = c.post("/v1/plans", json=many)
        assert r.status_code == 413 and "501 orders" in r.json()["detail"]


def test_a_queued_or_running_plan_can_be_cancelled(server):
    with server.client() as c:
        # two long plans fill both solver processes; a third waits in the queue
        running = [c.post("/v1/plans", json=_day(time_limit=60)).json()["id"] for _ in range(2)]
        queued = c.post("/v1/plans", json=_day(time_limit=60)).json()["id"]
        for job in running:
            _wait(c, job, until=("running",))
        assert c.get(f"/v1/plans/{queued}").json()["status"] == "queued"
        t0 = time.monotonic()
        for job in (queued, *running):
            assert c.delete(f"/v1/plans/{job}").json() == {
                "id": job, "status": "failed", "error": "cancelled by its owner"}  # fmt: skip
        # the solver processes are free again at once, not after their 60 s
        nxt = c.post("/v1/plans", json=_day(time_limit=1)).json()["id"]
        assert _wait(c, nxt, limit=30)["status"] == "done" and time.monotonic() - t0 < 30
        for job in (queued, *running):
            doc = c.get(f"/v1/plans/{job}").json()
            assert doc["status"] == "failed" and doc["error"] == "cancelled by its owner"
            assert doc["summary"] is None
            assert c.get(f"/v1/plans/{job}/routes.csv").status_code == 409
        assert c.delete(f"/v1/plans/{nxt}").status_code == 409


def test_a_restart_keeps_done_plans_and_fails_the_ones_in_flight(tmp_path):
    s = Server(tmp_path / "data").start()
    try:
        with s.client() as c:
            done = c.post("/v1/plans", json=_day(time_limit=1)).json()["id"]
            assert _wait(c, done)["status"] == "done"
            flying = c.post("/v1/plans", json=_day(time_limit=60)).json()["id"]
            _wait(c, flying, until=("running",))
        s.kill()
        s.start()
        with s.client() as c:
            assert c.get(f"/v1/plans/{done}").json()["plan"]["summary"]["assigned"] == 40
            assert c.get(f"/v1/plans/{done}/routes.csv").status_code == 200
            doc = c.get(f"/v1/plans/{flying}").json()
            assert doc["status"] == "failed" and "server stopped" in doc["error"]
    finally:
        s.kill()


def test_the_openapi_documentation_is_served(server):
    assert httpx.get(f"{server.url}/docs").status_code == 200
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/v1/plans", "/v1/plans/{job}", "/v1/plans/{job}/{name}"} <= set(paths)


def test_people_see_their_plans_with_kpis_map_and_report_in_a_browser(server, tmp_path):
    with server.client() as c:
        job = c.post("/v1/plans", json=_day(time_limit=1)).json()["id"]
        assert _wait(c, job)["status"] == "done"
        report = c.get(f"/v1/plans/{job}/report.html")
        assert report.status_code == 200 and "cost per order" in report.text
    assert httpx.get(f"{server.url}/").status_code == 401  # no key, no plans
    marks = body_marks(f"{server.url}/?key={KEYS['acme']}")  # the key becomes a cookie
    assert int(marks["plans"]) >= 1 and int(marks["done"]) >= 1
    page = httpx.get(f"{server.url}/", cookies={"fleetroute_key": KEYS["acme"]}).text
    assert f"/v1/plans/{job}/map.html" in page and f"/v1/plans/{job}/report.html" in page
    other = httpx.get(f"{server.url}/", cookies={"fleetroute_key": KEYS["other"]}).text
    assert job not in other
    (tmp_path / "map.html").write_text(
        httpx.get(
            f"{server.url}/v1/plans/{job}/map.html", cookies={"fleetroute_key": KEYS["acme"]}
        ).text
    )
    drawn = body_marks(tmp_path / "map.html")
    assert drawn["errors"] == "0" and int(drawn["legs"]) > 0


def _vroom_problem() -> dict:
    """Six jobs on the example city (one frozen, one with a morning window), two vans."""
    orders = _rows(EXAMPLES / "orders.csv")[:6]
    jobs = [{"id": 100 + k, "location": [float(o["lon"]), float(o["lat"])], "service": 300,
             "delivery": [2]} for k, o in enumerate(orders)]  # fmt: skip
    jobs[0]["skills"] = [7]
    jobs[1]["time_windows"] = [[9 * 3600, 11 * 3600]]
    depot = [4.888843, 52.369389]
    vehicles = [{"id": 1, "start": depot, "end": depot, "capacity": [8],
                 "time_window": [8 * 3600, 18 * 3600]},
                {"id": 2, "start": depot, "end": depot, "capacity": [8], "skills": [7],
                 "time_window": [8 * 3600, 18 * 3600]}]  # fmt: skip
    return {"jobs": jobs, "vehicles": vehicles, "options": {"time_limit": 1}}


def test_a_vroom_problem_is_answered_in_vrooms_solution_format(server):
    problem = _vroom_problem()
    with server.client() as c:
        r = c.post("/vroom", json=problem)
        assert r.status_code == 200, r.text
        solution = r.json()
    assert solution["code"] == 0 and solution["summary"]["unassigned"] == 0
    jobs = {j["id"]: j for j in problem["jobs"]}
    served = {}
    for route in solution["routes"]:
        types = [s["type"] for s in route["steps"]]
        assert types[0] == "start" and types[-1] == "end" and set(types[1:-1]) == {"job"}
        arrivals = [s["arrival"] for s in route["steps"]]
        assert arrivals == sorted(arrivals) and arrivals[0] >= 8 * 3600
        assert (
            route["delivery"] == [2 * (len(types) - 2)]
            and max(s["load"][0] for s in route["steps"]) <= 8
        )
        for s in route["steps"][1:-1]:
            served[s["id"]] = (route["vehicle"], s["arrival"])
            assert s["location"] == jobs[s["id"]]["location"] and s["service"] == 300
    assert set(served) == set(jobs)
    assert served[100][0] == 2  # the only van with skill 7
    assert 9 * 3600 <= served[101][1] <= 11 * 3600
    assert solution["summary"]["cost"] == sum(r["cost"] for r in solution["routes"])


def test_what_the_vroom_endpoint_cannot_plan_is_code_2_and_422(server):
    with server.client() as c:
        shipments = {**_vroom_problem(), "shipments": [{"amount": [1]}]}
        r = c.post("/vroom", json=shipments)
        assert r.status_code == 422 and r.json()["code"] == 2
        assert "shipments" in r.json()["error"]
        broken = _vroom_problem()
        broken["jobs"][2]["location"] = 3
        r = c.post("/vroom", json=broken)
        assert r.status_code == 422 and "job 102" in r.json()["error"]
        assert httpx.post(f"{server.url}/vroom", json=_vroom_problem()).status_code == 401


def test_dispatch_operations_on_a_stored_plan(server):
    with server.client() as c:
        job = c.post("/v1/plans", json=_day(time_limit=1)).json()["id"]
        assert _wait(c, job)["status"] == "done"
        new = {"order_id": "N1", "lat": 52.371, "lon": 4.893, "window_start": "14:00",
               "window_end": "17:00"}  # fmt: skip
        r = c.post(f"/v1/plans/{job}/orders", json={"orders": [new]})
        assert r.status_code == 200, r.text
        inserted = r.json()
        assert inserted["orders"][0]["vehicle_id"] in {"van1", "van2", "van3", "van4"}
        assert inserted["summary"]["assigned"] == 41
        grown = c.get(f"/v1/plans/{inserted['id']}").json()
        assert grown["status"] == "done" and grown["plan"]["summary"]["orders"] == 41
        routes = pd.read_csv(io.StringIO(c.get(f"/v1/plans/{inserted['id']}/routes.csv").text))
        assert "N1" in set(routes["order_id"].astype(str))
        # re-plan the grown plan at 13:00: the orders delivered by then are not in it
        r = c.post(f"/v1/plans/{inserted['id']}/replan", json={"now": "13:00", "time_limit": 1})
        assert r.status_code == 200, r.text
        assert 0 < r.json()["summary"]["orders"] < 41
        # check the stored sequence, then one with a drop-off before its pickup
        r = c.post(f"/v1/plans/{job}/check", json={})
        assert r.status_code == 200 and r.json()["violations"] == []
        rows = _rows_of(c.get(f"/v1/plans/{job}/routes.csv").text)
        shopped = next(i for i, s in enumerate(rows) if s["kind"] == "pickup")
        rows = [s for i, s in enumerate(rows) if i != shopped]
        found = c.post(f"/v1/plans/{job}/check", json={"routes": rows}).json()["violations"]
        assert any(v["violation"] == "pickup_missing" for v in found)
        # windows at checkout: an offered one books on the vehicle it named
        ask = {"orders": [{"order_id": "N9", "lat": 52.383, "lon": 4.905}],
               "windows": ["04:00-06:00", "14:00-16:00"]}  # fmt: skip
        r = c.post(f"/v1/plans/{job}/slots", json=ask)
        assert r.status_code == 200, r.text
        no, yes = r.json()["slots"]
        assert (no["feasible"], yes["feasible"]) == (False, True)
        assert no["reason"] and no["marginal_cost"] is None and yes["marginal_cost"] > 0
        booking = {**ask["orders"][0], "window_start": "14:00", "window_end": "16:00"}
        placed = c.post(f"/v1/plans/{job}/orders", json={"orders": [booking]}).json()
        assert placed["orders"][0]["vehicle_id"] == yes["vehicle_id"]
        r = c.post(f"/v1/plans/{job}/slots", json={**ask, "windows": ["14:00"]})
        assert r.status_code == 422 and "windows[0]" in r.text
        # bad input and other keys' plans
        assert c.post(f"/v1/plans/{job}/orders", json={"orders": [{"order_id": "x"}]}
                      ).status_code == 422  # fmt: skip
        assert c.post("/v1/eta", json={"trips": []}).status_code == 409  # no model here
    with server.client("other") as o:
        assert o.post(f"/v1/plans/{job}/check", json={}).status_code == 404


def _rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """A small city with a trained ETA model, and a server planning with it."""
    from click.testing import CliRunner

    from fleetroute.cli import cli

    d = tmp_path_factory.mktemp("learned")

    def run(*args):
        r = CliRunner().invoke(cli, [str(a) for a in args])
        assert r.exit_code == 0, r.output

    run("map", "synth", d / "city.graphml", "--nodes", 400, "--seed", 5)
    run("simulate", "history", "--map", d / "city.graphml", "--days", 6, "--trips-per-day", 300,
        "--stops-per-day", 200, "--out", d / "hist")  # fmt: skip
    run("eta", "train", "--map", d / "city.graphml", "--trips", d / "hist" / "trips.csv",
        "--stops", d / "hist" / "stops.csv", "--out", d / "model")  # fmt: skip
    run("simulate", "orders", "--map", d / "city.graphml", "--stores", d / "hist" / "stores.csv",
        "--orders", 12, "--out", d / "orders.csv")  # fmt: skip
    s = Server(d / "data", "--eta-model", str(d / "model"), city=d / "city.graphml")
    yield s.start(), d
    s.kill()


def test_a_server_with_a_model_plans_on_it_predicts_legs_and_gives_the_risk(learned):
    server, d = learned
    orders = _rows(d / "orders.csv")
    lat, lon = float(orders[0]["lat"]), float(orders[0]["lon"])
    day = {"orders": orders, "stores": _rows(d / "hist" / "stores.csv"),
           "vehicles": [{"vehicle_id": f"v{k}", "depot_lat": lat, "depot_lon": lon,
                         "capacity": 40, "shift_start": "08:00", "shift_end": "22:00"}
                        for k in range(3)],
           "date": "2026-03-02", "options": {"time_limit": 1}}  # fmt: skip
    with server.client() as c:
        job = c.post("/v1/plans", json=day).json()["id"]
        doc = _wait(c, job)
        assert doc["status"] == "done" and "lightgbm" in doc["plan"]["inputs"]["model"]
        trips = _rows(d / "hist" / "trips.csv")[:5]
        r = c.post("/v1/eta", json={"trips": trips, "stops": _rows(d / "hist" / "stops.csv")[:3]})
        assert r.status_code == 200, r.text
        legs = r.json()["trips"]
        assert [t["trip_id"] for t in legs] == [t["trip_id"] for t in trips]
        assert all(0 < t["predicted_s"] <= t["p90_s"] for t in legs)
        risk = c.post(f"/v1/plans/{job}/check", json={}).json()["risk"]
        assert risk and all(0.0 <= s["p_late"] <= 1.0 for s in risk)


def test_one_server_plans_on_several_maps_by_name(tmp_path, learned):
    _, d = learned
    s = Server(tmp_path / "data", "--map", f"town={d / 'city.graphml'}").start()
    try:
        with s.client() as c:
            on_city = c.post("/v1/plans", json=_day(time_limit=1)).json()["id"]
            assert _wait(c, on_city)["plan"]["inputs"]["map"].endswith("city.graphml")
            orders = _rows(d / "orders.csv")
            lat, lon = float(orders[0]["lat"]), float(orders[0]["lon"])
            town = {"orders": orders, "map": "town", "stores": _rows(d / "hist" / "stores.csv"),
                    "vehicles": [{"vehicle_id": "v1", "depot_lat": lat, "depot_lon": lon}],
                    "options": {"time_limit": 1}}  # fmt: skip
            doc = _wait(c, c.post("/v1/plans", json=town).json()["id"])
            assert doc["status"] == "done" and doc["plan"]["summary"]["orders"] == len(orders)
            r = c.post("/v1/plans", json={**town, "map": "atlantis"})
            assert r.status_code == 422 and "unknown map 'atlantis'" in r.text
    finally:
        s.kill()
