"""Test-suite settings shared by every test directory.

Hypothesis runs under one registered profile, loaded by default, so that the suite is reproducible
(``derandomize``: the same examples on every run and every machine, no example database), has no
per-example deadline (timing assertions do not belong in tests: speed lives in the benchmarks), and
stays fast: 100 examples a test (derandomized runs repeat the same examples, so more per run would
only cost time). ``HYPOTHESIS_PROFILE=thorough`` explores 5000 random examples a test instead.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("wirelab", derandomize=True, deadline=None, max_examples=100, database=None)
settings.register_profile("thorough", deadline=None, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "wirelab"))
