"""The sandbox's metric math (sandbox/metric_math.py): the alarms' own expression, read as CloudWatch
documents its functions, and anything else refused."""

from __future__ import annotations

import pytest

from infra.reputation import volume_expression
from sandbox.metric_math import UnsupportedExpression, evaluate

SMALL = volume_expression(100)


@pytest.mark.parametrize(("sends", "rate", "events", "expected"), [
    (500, 0.06, 30.0, 0.06),     # enough volume: SES's own rate
    (100, 0.03, 3.0, 0.03),      # exactly min_volume counts as enough
    (50, 0.30, 15.0, 0.15),      # a small hour: its bounces over min_volume, never above its true rate
    (10, 0.10, 1.0, 0.01),       # one bounce in ten: below the warn level
    (10, 0.0, None, 0.0),        # no bounce event in the hour: FILL makes it 0, not missing
    (None, 0.05, 5.0, None),     # no Send datapoint: missing, as CloudWatch leaves it
])
def test_the_alarms_expression(sends, rate, events, expected):
    value = evaluate(SMALL, {"sends": sends, "rate": rate, "events": events})
    assert value == pytest.approx(expected) if expected is not None else value is None


def test_arithmetic_comparisons_and_missing_data():
    assert evaluate("(a + b) * 2 - c / 4", {"a": 1.0, "b": 2.0, "c": 8.0}) == 4.0
    assert evaluate("a > b", {"a": 1.0, "b": 2.0}) == 0.0 and evaluate("a <= b", {"a": 1.0, "b": 2.0}) == 1.0
    assert evaluate("a / b", {"a": 1.0, "b": 0.0}) is None  # CloudWatch drops a division by 0
    assert evaluate("a + b", {"a": 1.0, "b": None}) is None
    assert evaluate("IF(a, 1, 2)", {"a": 0.0}) == 2.0 and evaluate("IF(a, 1, 2)", {"a": 0.5}) == 1.0


@pytest.mark.parametrize("expression", [
    "IF(sends >= 100, rate, 0",          # unbalanced
    "RUNNING_SUM(events)",              # a function the sandbox does not model
    "IF(sends >= 100, rate, unknown)",  # an id no metric query declares
    "sends >= 100 rate",                # trailing input
    "rate % 2",                         # not CloudWatch's grammar
])
def test_anything_else_is_refused(expression):
    with pytest.raises(UnsupportedExpression):
        evaluate(expression, {"sends": 1.0, "rate": 1.0, "events": 1.0})
