"""The input fuzz of the tests, for longer: hypothesis-generated orders, vehicles and stores
files, read and checked (``--scale`` x 1,500 cases) and planned whole by `route plan`
(``--scale`` x 40 cases). Every case must end in a problem or one InputError line, exit 0
or 2, no traceback, and a complete plan folder or none.

    python benchmarks/fuzz.py --scale 10

Runs ``tests/cli/test_fuzz.py`` with ``FLEETROUTE_FUZZ_SCALE`` and writes the cases tried
and failures to ``benchmarks/results/fuzz.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=10.0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/cli/test_fuzz.py", "-p", "no:cacheprovider",
         "-rf", "--hypothesis-seed", "0"],
        cwd=ROOT, env={**os.environ, "FLEETROUTE_FUZZ_SCALE": str(args.scale)},
        capture_output=True, text=True,
    )  # fmt: skip
    result = {
        "scale": args.scale,
        "read_cases": int(1500 * args.scale),
        "route_plan_cases": int(40 * args.scale),
        "failed": done.returncode != 0,
        "tracebacks_or_failures": [
            line for line in done.stdout.splitlines() if line.startswith("FAILED")
        ],
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (HERE / "results" / "fuzz.json").write_text(json.dumps(result, indent=1) + "\n")
    print(result if not done.returncode else done.stdout[-3000:])


if __name__ == "__main__":
    main()
