"""The part of CloudWatch's metric math that the stacks' alarms use, evaluated on one datapoint.

moto stores an alarm's Metrics but evaluates no expression, so the sandbox does, as CloudWatch
documents the functions (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
numbers, metric ids, + - * /, the comparisons (1 when true, 0 when false), IF(condition, a, b)
(a where the condition is not 0) and FILL(m, value) (a missing datapoint becomes the value). A
missing datapoint stays missing through every other operation, as does a division by 0; anything
outside this grammar is refused rather than guessed.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping

_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>>=|<=|==|!=|[-+*/(),<>]))")
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq, "!=": operator.ne}
_ARITHMETIC: dict[str, Callable[[float, float], float]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}
Value = float | None


class UnsupportedExpression(ValueError):
    pass


def _tokens(expression: str) -> list[str]:
    found, position = [], 0
    while position < len(expression.rstrip()):
        match = _TOKEN.match(expression, position)
        if not match:
            raise UnsupportedExpression(f"cannot read {expression[position:]!r} in {expression!r}")
        found.append(match.group(match.lastgroup))
        position = match.end()
    return found


def _divide(a: float, b: float) -> Value:
    return None if b == 0 else a / b


class _Parser:
    def __init__(self, expression: str, values: Mapping[str, Value]):
        self.tokens, self.values, self.expression = _tokens(expression), values, expression

    def _next(self) -> str:
        if not self.tokens:
            raise UnsupportedExpression(f"{self.expression!r} ends too early")
        return self.tokens.pop(0)

    def _expect(self, token: str) -> None:
        if (found := self._next()) != token:
            raise UnsupportedExpression(f"expected {token!r}, found {found!r} in {self.expression!r}")

    def parse(self) -> Value:
        value = self.comparison()
        if self.tokens:
            raise UnsupportedExpression(f"unexpected {self.tokens[0]!r} in {self.expression!r}")
        return value

    def comparison(self) -> Value:
        left = self.sum()
        if self.tokens and self.tokens[0] in _COMPARE:
            compare = _COMPARE[self._next()]
            right = self.sum()
            return None if left is None or right is None else float(compare(left, right))
        return left

    def _binary(self, operand: Callable[[], Value], operators: dict[str, Callable[[float, float], Value]]) -> Value:
        value = operand()
        while self.tokens and self.tokens[0] in operators:
            apply, right = operators[self._next()], operand()
            value = None if value is None or right is None else apply(value, right)
        return value

    def sum(self) -> Value:
        return self._binary(self.product, {"+": _ARITHMETIC["+"], "-": _ARITHMETIC["-"]})

    def product(self) -> Value:
        return self._binary(self.atom, {"*": _ARITHMETIC["*"], "/": _divide})

    def _arguments(self, count: int) -> list[Value]:
        self._expect("(")
        found = [self.comparison()]
        while len(found) < count:
            self._expect(",")
            found.append(self.comparison())
        self._expect(")")
        return found

    def atom(self) -> Value:
        word = self._next()
        if word == "(":
            value = self.comparison()
            self._expect(")")
            return value
        if word == "IF":
            condition, when_true, when_false = self._arguments(3)
            return None if condition is None else (when_true if condition != 0 else when_false)
        if word == "FILL":
            value, fill = self._arguments(2)
            return fill if value is None else value
        if re.fullmatch(r"\d+(?:\.\d+)?", word):
            return float(word)
        if re.fullmatch(r"[a-z][A-Za-z0-9_]*", word) and word in self.values:
            return self.values[word]
        raise UnsupportedExpression(f"the sandbox does not evaluate {word!r} in {self.expression!r}")


def evaluate(expression: str, values: Mapping[str, Value]) -> Value:
    """The expression's value for one period, from each metric id's value (None: no datapoint)."""
    return _Parser(expression, values).parse()
