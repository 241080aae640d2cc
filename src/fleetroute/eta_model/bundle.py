"""A model bundle's manifest.json, checked field by field before any model file is opened,
so that a bundle edited by hand, copied in part or from another version fails with one line
that names the field."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from fleetroute.errors import ModelBundleError

__all__ = ["MANIFEST", "KIND", "SCHEMA_VERSION", "read_manifest", "load_boosters"]

#: The manifest's file name, the bundle kind it declares, and the schema this version reads.
MANIFEST = "manifest.json"
KIND = "fleetroute-eta"
SCHEMA_VERSION = 1

_JSON_NAMES = {dict: "an object", list: "a list", str: "text", bool: "true or false",
               int: "a number", float: "a number", type(None): "null"}  # fmt: skip


def _typed(manifest: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in manifest:
        raise ModelBundleError(f"{where}: {key} is missing")
    value = manifest[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ModelBundleError(
            f"{where}: {key} is {_JSON_NAMES.get(type(value), type(value).__name__)}, "
            f"not {_JSON_NAMES[kind]}"
        )
    return value


def _quantile(value: Any, where: str, field: str) -> float:
    """A quantile from a number or (as the files' keys are) its text."""
    try:
        if isinstance(value, bool):
            raise ValueError
        q = float(value)
    except (TypeError, ValueError):
        q = float("nan")
    if not 0.0 < q < 1.0:
        raise ModelBundleError(
            f"{where}: {field}: {value!r} is not a quantile (a number between 0 and 1)"
        )
    return q


#: Calibration bands a day (two hours each).
_BANDS = 12


def _calibration(manifest: dict[str, Any], where: str) -> dict[str, dict[float, list[float]]]:
    """The upper quantiles' calibration shifts, per target and quantile, one number per
    two-hour band (a bundle made before calibration has none: nothing is shifted)."""
    if "calibration" not in manifest:
        return {}
    table = _typed(manifest, "calibration", dict, where)
    out: dict[str, dict[float, list[float]]] = {}
    for target in table:
        if target not in ("travel", "service"):
            raise ModelBundleError(f"{where}: calibration: {target!r} is not travel or service")
        named = _typed(table, target, dict, f"{where}: calibration")
        out[target] = {}
        for key, values in named.items():
            field = f"calibration.{target}"
            q = _quantile(key, where, field)
            ok = isinstance(values, list) and len(values) == _BANDS
            if not ok or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 50
                for v in values
            ):
                raise ModelBundleError(
                    f"{where}: {field}.{key} is not a list of {_BANDS} shifts (numbers)"
                )
            out[target][q] = [float(v) for v in values]
    return out


def read_manifest(folder: Path) -> dict[str, Any]:
    """The bundle's manifest, every field the loader reads checked for presence and type,
    its quantiles parsed and its model files found.

    Raises
    ------
    ModelBundleError
        One line naming the folder (or file) and the field at fault.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise ModelBundleError(f"{folder}: not an ETA model bundle (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelBundleError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ModelBundleError(f"{path}: not a JSON object")
    where = str(path)
    version = manifest.get("schema_version")
    if isinstance(version, str):
        raise ModelBundleError(
            f"{where}: schema_version is the text {version!r}, not the number {SCHEMA_VERSION}"
        )
    if version != SCHEMA_VERSION:
        raise ModelBundleError(
            f"{folder}: bundle schema {version} but this fleetroute reads schema "
            f"{SCHEMA_VERSION}; retrain with `route eta train`"
        )
    kind = _typed(manifest, "kind", str, where)
    if kind != KIND:
        raise ModelBundleError(f"{where}: kind is {kind!r}, not {KIND!r}")
    _typed(manifest, "map_fingerprint", str, where)
    for q in _typed(manifest, "quantiles", list, where):
        _quantile(q, where, "quantiles")
    _typed(manifest, "params", dict, where)
    _typed(manifest, "stores", list, where)
    period = _typed(manifest, "training_period", list, where)
    if len(period) != 2:
        raise ModelBundleError(f"{where}: training_period has {len(period)} dates, not 2")
    _typed(manifest, "metrics", dict, where)
    manifest["calibration"] = _calibration(manifest, where)
    files = _typed(manifest, "files", dict, where)
    for key in ("places", "areas"):
        if key == "areas" and key not in files:
            continue  # a model trained without area slowness
        name = _typed(files, key, str, f"{where}: files")
        if Path(name).name != name:
            raise ModelBundleError(f"{where}: files.{key}: {name!r} is not a file name")
        if not (folder / name).is_file():
            raise ModelBundleError(f"{folder}: {name} is missing (files.{key} names it)")
    for target in ("travel", "service"):
        named = _typed(files, target, dict, f"{where}: files")
        parsed = {}
        for key, name in named.items():
            field = f"files.{target}"
            q = _quantile(key, where, field)
            if not isinstance(name, str) or Path(name).name != name:
                raise ModelBundleError(f"{where}: {field}: {name!r} is not a file name")
            if not (folder / name).is_file():
                raise ModelBundleError(f"{folder}: {name} is missing ({field} names it)")
            parsed[q] = name
        if 0.5 not in parsed:
            raise ModelBundleError(f"{where}: files.{target} has no median (quantile 0.5)")
        files[target] = parsed
    return manifest


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Python's and the C library's writes to stdout and stderr go nowhere meanwhile
    (LightGBM prints "[LightGBM] [Fatal] ..." from C before it raises)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(io.StringIO()):
            os.dup2(null.fileno(), 1)
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def load_boosters(folder: Path, files: dict[float, str], booster: Callable[[str], Any]) -> Any:
    """``{quantile: booster(path)}``; LightGBM's own log lines are kept off the terminal,
    and a file it cannot read is one line naming it."""
    out = {}
    for q, name in files.items():
        try:
            with _silenced():
                out[q] = booster(str(folder / name))
        except Exception as exc:  # LightGBM raises its own error types for bad files
            reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise ModelBundleError(f"{folder}: {name} is damaged ({reason})") from None
    return out
