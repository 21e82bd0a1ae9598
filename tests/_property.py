"""The property tests' hypothesis settings: 500 examples each, no deadline."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PROPERTY = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MAX_OPERAND = 2**62 - 1  # the largest operand predict takes
