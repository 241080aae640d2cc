"""Process settings fleetroute makes before pandas is first imported.

pandas 3 keeps strings in Arrow when pyarrow is installed (it is, for Parquet histories and
``lightgbm.dask``). Arrow's own allocator then held about 250 MB more peak memory in every
planning process than the system allocator (measured: the quick suite's grid-5k-100
scenario peaks at 525 MB with it, 284 MB with the system one, 248 MB without pyarrow), so
fleetroute asks Arrow for the system allocator unless ``ARROW_DEFAULT_MEMORY_POOL`` is set.
Arrow reads the variable when it is first imported; Dask workers inherit it.
"""

import os

os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
