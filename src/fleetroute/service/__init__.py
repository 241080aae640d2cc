"""`route serve`: the HTTP service of SPEC over the api (FastAPI on uvicorn, SQLite)."""

from fleetroute.service.app import KEYS_VARIABLE, ServiceConfig, create_app, keys_from_text

__all__ = ["ServiceConfig", "create_app", "keys_from_text", "KEYS_VARIABLE"]
