"""Shared test configuration.

* Hypothesis profiles: ``default`` (local) and ``ci`` (chosen when ``CI`` is set): both derandomized
  so a failure repeats, and without deadlines (the first call of a Numba kernel compiles it).
* ``tests/helpers.py`` has ``require_torch()`` and ``dataset_dir(name)``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
