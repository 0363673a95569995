"""The tests' one day: the app's clock (:mod:`api.clock`) is frozen on it for the whole
session (``PSQ_TODAY``, set by ``tests/conftest.py`` for this process, its live servers
and the commands it starts), and every test that needs "today" takes it from here, so
that a run crossing midnight, or run on another day, sees the same synthetic data and
expects the same answers."""

from __future__ import annotations

from datetime import date

#: Today, for the app and for the tests.
TODAY = date(2026, 6, 15)
