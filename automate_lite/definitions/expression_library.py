"""Values, limits, functions and allowed methods of the expression language (standard library only).

:mod:`automate_lite.definitions.expressions` parses and walks the tree; this module says
what the values may do: the operators' meaning on JSON values, the functions an
expression may call and the few methods of strings, lists and objects it may use.
Every method here is looked up in a fixed table of unbound methods (``str.strip``, ...),
so no name from an expression ever reaches :func:`getattr`; none of them changes a value
(a flow's state is never mutated by an expression), and those whose result could be
large check its size before they build it.
"""

from __future__ import annotations

import json
import math
import posixpath
from typing import Any, Callable, Mapping, Sequence

from .jsonpath import kind

__all__ = [
    "ExpressionError",
    "MAX_STRING",
    "MAX_ITEMS",
    "MAX_INT",
    "PURE_FUNCTIONS",
    "METHODS",
    "to_text",
    "kind",
    "is_number",
    "equal",
    "compare",
    "arith",
    "checked",
    "call_method",
]

#: Longest string an expression may build.
MAX_STRING = 1_000_000
#: Most items a list (or keys an object) an expression builds may have.
MAX_ITEMS = 100_000
#: Largest integer (in absolute value) an expression may compute.
MAX_INT = 10**300
# Widest zfill/ljust-style padding: more would only be a way to allocate memory.
_MAX_WIDTH = 10_000
# round()'s digits: rounding an int to -10**9 digits would compute 10**(10**9).
_MAX_DIGITS = 400


class ExpressionError(ValueError):
    """An expression could not be parsed or evaluated.

    ``reason`` says what went wrong, ``expression`` is the text (when known) and
    ``column`` the 1-based column of the part at fault (when known); ``str()`` of the
    error names all three.
    """

    def __init__(self, reason: str, expression: str | None = None, column: int | None = None) -> None:
        self.reason = reason
        self.expression = expression
        self.column = column
        super().__init__(self._message())

    def _message(self) -> str:
        if self.expression is None:
            return self.reason if self.column is None else f"{self.reason} (at column {self.column})"
        shown = self.expression if len(self.expression) <= 80 else self.expression[:77] + "..."
        where = f"column {self.column} of " if self.column is not None else ""
        return f"{self.reason} ({where}expression {shown!r})"

    def located(self, expression: str | None, column: int | None) -> "ExpressionError":
        """The same error with the expression and column filled in where they are missing."""
        err = type(self)(
            self.reason,
            self.expression if self.expression is not None else expression,
            self.column if self.column is not None else column,
        )
        return err


class MissingError(ExpressionError):
    """A name, key or item that is not there (what ``is_present``/``getattr`` ask about)."""


# ----------------------------------------------------------------------------- values




def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def checked(value: Any) -> Any:
    """Refuse results no JSON document should hold (or that would eat the memory)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ExpressionError("an integer result is too large")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("a number result is not finite (inf or nan)")
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ExpressionError(f"a string result is longer than {MAX_STRING} characters")
    elif isinstance(value, (list, dict)):
        if len(value) > MAX_ITEMS:
            raise ExpressionError(f"a list or object result has more than {MAX_ITEMS} items")
    elif isinstance(value, complex):
        raise ExpressionError("the result is not a real number")
    return value


def to_text(value: Any) -> str:
    """What ``str(value)`` gives: strings as they are, everything else as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    try:
        return json.dumps(value, separators=(", ", ": "))
    except (TypeError, ValueError, RecursionError):
        raise ExpressionError(f"str() cannot show {kind(value)} as text") from None


def equal(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``; containers compare item by item the same way."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def compare(op: str, a: Any, b: Any) -> bool:
    if op in ("==", "is"):
        return equal(a, b)
    if op in ("!=", "is not"):
        return not equal(a, b)
    if op in ("in", "not in"):
        if isinstance(b, str):
            if not isinstance(a, str):
                raise ExpressionError(f"'{op}' a string needs a string on the left, not {kind(a)}")
            found = a in b
        elif isinstance(b, list):
            found = any(equal(a, item) for item in b)
        elif isinstance(b, dict):
            found = isinstance(a, str) and a in b
        else:
            raise ExpressionError(f"'{op}' needs a string, a list or an object on the right, not {kind(b)}")
        return found if op == "in" else not found
    if not ((is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise ExpressionError(f"cannot order {kind(a)} and {kind(b)} with {op!r}")
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b >= 0:
        # Decide before computing: 10 ** 10**9 would take the machine.
        if a not in (0, 1, -1) and b * math.log2(abs(a)) > 1000:
            raise ExpressionError("the power is too large (results stay under 10**300)")
        return a**b
    try:
        result = float(a) ** float(b)
    except OverflowError:
        raise ExpressionError("the power is too large") from None
    except ZeroDivisionError:
        raise ExpressionError("division by zero (0 to a negative power)") from None
    if isinstance(result, complex):
        raise ExpressionError("a negative number to a fractional power is not a real number")
    return result


def arith(op: str, a: Any, b: Any) -> Any:
    """``a op b`` for the arithmetic operators, with JSON types and the size limits."""
    if op == "+":
        if is_number(a) and is_number(b):
            return a + b
        if isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > MAX_STRING:
                raise ExpressionError(f"a string result is longer than {MAX_STRING} characters")
            return a + b
        if isinstance(a, list) and isinstance(b, list):
            if len(a) + len(b) > MAX_ITEMS:
                raise ExpressionError(f"a list result has more than {MAX_ITEMS} items")
            return a + b
        hint = "; convert with str(...) first" if isinstance(a, str) or isinstance(b, str) else ""
        raise ExpressionError(f"cannot add {kind(a)} and {kind(b)}{hint}")
    if op == "*":
        if is_number(a) and is_number(b):
            return a * b
        seq, count = (a, b) if isinstance(a, (str, list)) else (b, a)
        if isinstance(seq, (str, list)) and isinstance(count, int) and not isinstance(count, bool):
            limit = MAX_STRING if isinstance(seq, str) else MAX_ITEMS
            if len(seq) * max(count, 0) > limit:
                raise ExpressionError(f"repeating gives more than {limit} items")
            return seq * count
        raise ExpressionError(f"cannot multiply {kind(a)} and {kind(b)}")
    if not (is_number(a) and is_number(b)):
        raise ExpressionError(f"{op!r} takes numbers, not {kind(a)} and {kind(b)}")
    if op == "-":
        return a - b
    if op == "**":
        return _power(a, b)
    if b == 0:
        raise ExpressionError(f"division by zero ({to_text(a)} {op} 0)")
    try:
        if op == "/":
            return a / b
        if op == "//":
            return a // b
        return a % b
    except OverflowError:
        raise ExpressionError(f"the result of {op!r} is too large") from None


# ----------------------------------------------------------------------------- functions


def _fn_len(x: Any) -> int:
    if not isinstance(x, (str, list, dict)):
        raise ExpressionError(f"len() takes a string, a list or an object, not {kind(x)}")
    return len(x)


def _fn_int(x: Any) -> int:
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ExpressionError("int() of a number that is not finite")
        return int(x)
    if isinstance(x, int):
        return x
    if isinstance(x, str):
        text = x.strip()
        if len(text) > 320:
            raise ExpressionError("int() of a string longer than 320 characters")
        try:
            return int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                raise ExpressionError(f"int() cannot read {x!r} as a number") from None
            if not math.isfinite(value):
                raise ExpressionError(f"int() cannot read {x!r} as a finite number") from None
            return int(value)
    raise ExpressionError(f"int() takes a number, a boolean or a string, not {kind(x)}")


def _fn_float(x: Any) -> float:
    if isinstance(x, (int, float)):
        try:
            return float(x)
        except OverflowError:
            raise ExpressionError("float() of an integer too large for a number") from None
    if isinstance(x, str):
        try:
            return float(x.strip())
        except ValueError:
            raise ExpressionError(f"float() cannot read {x!r} as a number") from None
    raise ExpressionError(f"float() takes a number, a boolean or a string, not {kind(x)}")


def _num_arg(name: str, x: Any) -> Any:
    if not is_number(x):
        raise ExpressionError(f"{name}() takes numbers, not {kind(x)}")
    return x


def _extremum(name: str, pick: Callable[[list[Any]], Any], args: Sequence[Any]) -> Any:
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not items:
        raise ExpressionError(f"{name}() of nothing")
    if all(is_number(v) for v in items) or all(isinstance(v, str) for v in items):
        return pick(items)
    raise ExpressionError(f"{name}() compares numbers with numbers or strings with strings")


def _fn_round(x: Any, digits: Any = None) -> Any:
    value = _num_arg("round", x)
    if digits is None:
        if isinstance(value, float) and not math.isfinite(value):
            raise ExpressionError("round() of a number that is not finite")
        return round(value)
    if not isinstance(digits, int) or isinstance(digits, bool):
        raise ExpressionError("round()'s second argument is a whole number of digits")
    if abs(digits) > _MAX_DIGITS:
        raise ExpressionError(f"round() takes at most {_MAX_DIGITS} digits either side of the point")
    return round(value, digits)


def _str_arg(name: str, x: Any) -> str:
    if not isinstance(x, str):
        raise ExpressionError(f"{name}() takes a string, not {kind(x)}")
    return x


def _fn_sum(x: Any) -> Any:
    if not isinstance(x, list) or not all(is_number(v) for v in x):
        raise ExpressionError("sum() takes a list of numbers")
    return sum(x)


def _fn_pathsplit(path: Any) -> list[str]:
    # The documented behaviour: ["/foo/bar", "blech"] for "/foo/bar/blech", and the
    # Transfer home path "/~/" is never split: "/~/path" gives ["/~/", "path"].
    text = _str_arg("pathsplit", path)
    if text in ("/~", "/~/"):
        return ["/~/", ""]
    head, tail = posixpath.split(text)
    if head == "/~":
        head = "/~/"
    return [head, tail]


_Function = Callable[..., Any]

#: The functions that need only their arguments: name -> (callable, min args, max args).
PURE_FUNCTIONS: dict[str, tuple[_Function, int, int]] = {
    "len": (_fn_len, 1, 1),
    "str": (to_text, 1, 1),
    "int": (_fn_int, 1, 1),
    "float": (_fn_float, 1, 1),
    "bool": (bool, 1, 1),
    "abs": (lambda x: abs(_num_arg("abs", x)), 1, 1),
    "min": (lambda *a: _extremum("min", min, a), 1, 10_000),
    "max": (lambda *a: _extremum("max", max, a), 1, 10_000),
    "sum": (_fn_sum, 1, 1),
    "round": (_fn_round, 1, 2),
    "upper": (lambda s: _str_arg("upper", s).upper(), 1, 1),
    "lower": (lambda s: _str_arg("lower", s).lower(), 1, 1),
    "strip": (lambda s: _str_arg("strip", s).strip(), 1, 1),
    "pathsplit": (_fn_pathsplit, 1, 1),
}


# ----------------------------------------------------------------------------- methods


def _replace(s: str, old: Any, new: Any, count: Any = -1) -> str:
    if not isinstance(old, str) or not isinstance(new, str):
        raise ExpressionError("replace() takes two strings")
    if not isinstance(count, int) or isinstance(count, bool):
        raise ExpressionError("replace()'s count is a whole number")
    hits = s.count(old) if old else len(s) + 1
    if count >= 0:
        hits = min(hits, count)
    if len(s) + hits * (len(new) - len(old)) > MAX_STRING:
        raise ExpressionError(f"replace() would give more than {MAX_STRING} characters")
    return s.replace(old, new, count)


def _join(s: str, items: Any) -> str:
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ExpressionError("join() takes a list of strings (convert items with str(...) first)")
    if sum(len(i) for i in items) + len(s) * max(len(items) - 1, 0) > MAX_STRING:
        raise ExpressionError(f"join() would give more than {MAX_STRING} characters")
    return s.join(items)


def _padded(method: Callable[..., str]) -> Callable[..., str]:
    def call(s: str, width: Any, *rest: Any) -> str:
        if not isinstance(width, int) or isinstance(width, bool) or width > _MAX_WIDTH:
            raise ExpressionError(f"the width is a whole number up to {_MAX_WIDTH}")
        return method(s, width, *rest)

    return call


def _affix(method: Callable[..., bool]) -> Callable[..., bool]:
    # Python takes a tuple of choices; JSON has lists.
    def call(s: str, prefix: Any, *rest: Any) -> bool:
        if isinstance(prefix, list):
            if not all(isinstance(p, str) for p in prefix):
                raise ExpressionError("startswith()/endswith() take a string or a list of strings")
            prefix = tuple(prefix)
        return method(s, prefix, *rest)

    return call


def _list_index(items: list[Any], value: Any) -> int:
    for i, item in enumerate(items):
        if equal(item, value):
            return i
    raise ExpressionError(f"index(): {to_text(value)[:60]} is not in the list")


def _dict_get(d: dict[str, Any], key: Any, default: Any = None) -> Any:
    return d.get(key, default) if isinstance(key, str) else default


_STR_METHODS: dict[str, _Function] = {
    name: getattr(str, name)
    for name in (
        "capitalize casefold count find rfind index rindex isalnum isalpha isdigit isnumeric "
        "isdecimal islower isupper isspace istitle lower upper lstrip rstrip strip partition "
        "rpartition split rsplit splitlines swapcase title removeprefix removesuffix"
    ).split()
}
_STR_METHODS.update(
    replace=_replace,
    join=_join,
    startswith=_affix(str.startswith),
    endswith=_affix(str.endswith),
    zfill=_padded(str.zfill),
    center=_padded(str.center),
    ljust=_padded(str.ljust),
    rjust=_padded(str.rjust),
)

#: The methods an expression may call, by the type of the value before the ``.``.
METHODS: dict[type, dict[str, _Function]] = {
    str: _STR_METHODS,
    list: {"count": lambda l, x: sum(1 for i in l if equal(i, x)), "index": _list_index},
    dict: {
        "get": _dict_get,
        "keys": lambda d: list(d.keys()),
        "values": lambda d: list(d.values()),
        "items": lambda d: [[k, v] for k, v in d.items()],
    },
}


def _jsonish(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def call_method(target: Any, name: str, args: Sequence[Any]) -> Any:
    """``target.name(*args)`` for an allowed method (raises :class:`ExpressionError`)."""
    table = METHODS.get(type(target))
    if table is None or name not in table:
        what = kind(target)
        allowed = ", ".join(sorted(table)) if table else "none"
        raise ExpressionError(
            f"{name}() is not an allowed method of {what}: attribute access is limited to "
            f"object keys and these methods of {what}: {allowed}"
        )
    try:
        return _jsonish(table[name](target, *args))
    except ExpressionError:
        raise
    except (TypeError, ValueError, OverflowError, IndexError, KeyError) as exc:
        raise ExpressionError(f".{name}() failed: {exc}") from None


def method_names(value: Any) -> Mapping[str, _Function]:
    return METHODS.get(type(value), {})
