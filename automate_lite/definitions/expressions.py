"""The expression language of ``.=`` keys and ExpressionEval states (standard library only).

A small, safe, Python-like subset, read by its own tokenizer and recursive-descent
parser and evaluated by walking the tree: user text is never given to ``eval``,
``exec``, ``compile`` or ``getattr``.

What it understands, loosest binding first::

    a if test else b                     conditional
    or   and   not                       boolean logic (Python truthiness; or/and return an operand)
    == != < <= > >=   in   not in        comparison (chains like Python: 1 < x < 3)
    + -                                  add numbers; join strings; join lists
    * / // %                             numbers; "ab" * 3 and [1] * 3 repeat
    -x  +x                               sign
    x[0]  x['key']                       index a list, a string or an object
    f(a, b)                              a call of one of FUNCTIONS, nothing else
    42  1.5  2e3  'single'  "double"  true false null (also True False None)
    [a, b]                               a list
    name  name.child.grandchild          a key of the state document: ``x`` is ``$.x``
    `$.a['b c'][0]`                      a backquoted JSONPath (see automate_lite.definitions.jsonpath)

Names starting with ``__`` are refused, and ``.`` is only the separator of a dotted
name: ``'abc'.upper``, ``x[0].y`` or ``f().y`` are attribute access and are refused.
``_context.run_id`` reads the run context. JSON values go in and come out; ``true``
is not ``1`` (``true == 1`` is false, and booleans take no part in arithmetic).

Every problem (syntax, an unknown name, a type mismatch, division by zero, a result
too big) raises :class:`ExpressionError` with a sentence saying what went wrong.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, Union

from . import jsonpath

__all__ = ["ExpressionError", "FUNCTIONS", "parse", "evaluate", "to_text"]

#: Longest expression text accepted.
MAX_LENGTH = 10_000
#: Deepest nesting of brackets and operators the parser follows.
MAX_DEPTH = 48
_MAX_STR = 1_000_000
_MAX_LIST = 100_000
_MAX_INT = 10**300


class ExpressionError(ValueError):
    """An expression could not be parsed or evaluated; the message says why."""


# ----------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # NUM STR NAME PATH OP EOF
    value: Any
    pos: int


_KEYWORDS = frozenset({"and", "or", "not", "in", "if", "else", "true", "false", "null", "True", "False", "None"})
_TWO_CHAR = ("==", "!=", "<=", ">=", "//", "**")
_ONE_CHAR = "()[],.+-*/%<>"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"', "`": "`"}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and text[j].isdigit():
                j += 1
            is_float = False
            if j < n and text[j] == "." and not (j + 1 < n and text[j + 1].isalpha() or j + 1 < n and text[j + 1] == "_"):
                is_float = True
                j += 1
                while j < n and text[j].isdigit():
                    j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k].isdigit():
                    is_float = True
                    j = k
                    while j < n and text[j].isdigit():
                        j += 1
            raw = text[i:j]
            if j < n and (text[j].isalpha() or text[j] == "_"):
                raise ExpressionError(f"malformed number {text[i:j + 1]!r} at position {i}")
            tokens.append(_Token("NUM", float(raw) if is_float else int(raw), start))
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(_Token("NAME", text[i:j], start))
            i = j
        elif c in "'\"`":
            quote = c
            j = i + 1
            buf: list[str] = []
            while True:
                if j >= n:
                    what = "backquoted JSONPath" if quote == "`" else "string"
                    raise ExpressionError(f"unterminated {what} starting at position {start}")
                ch = text[j]
                if ch == quote:
                    break
                if ch == "\\" and j + 1 < n and quote != "`":
                    nxt = text[j + 1]
                    buf.append(_ESCAPES.get(nxt, "\\" + nxt))
                    j += 2
                    continue
                buf.append(ch)
                j += 1
            tokens.append(_Token("PATH" if quote == "`" else "STR", "".join(buf), start))
            i = j + 1
        elif text.startswith(_TWO_CHAR, i):
            op = text[i : i + 2]
            if op == "**":
                raise ExpressionError(f"'**' (power) is not supported (position {i})")
            tokens.append(_Token("OP", op, start))
            i += 2
        elif c in _ONE_CHAR:
            tokens.append(_Token("OP", c, start))
            i += 1
        elif c == "=":
            raise ExpressionError(f"'=' at position {i}: assignment is not supported; compare with '=='")
        else:
            raise ExpressionError(f"unexpected character {c!r} at position {i}")
    tokens.append(_Token("EOF", None, n))
    return tokens


# ----------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Name:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Path:
    text: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Logic:
    op: str  # and / or
    left: "Node"
    right: "Node"


@dataclass(frozen=True)
class Compare:
    first: "Node"
    rest: tuple[tuple[str, "Node"], ...]


@dataclass(frozen=True)
class Cond:
    test: "Node"
    then: "Node"
    otherwise: "Node"


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple["Node", ...]


@dataclass(frozen=True)
class Index:
    target: "Node"
    index: "Node"


@dataclass(frozen=True)
class ListLit:
    items: tuple["Node", ...]


Node = Union[Const, Name, Path, Unary, Binary, Logic, Compare, Cond, Call, Index, ListLit]

_COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, value: Any = None) -> bool:
        tok = self.tok
        return tok.kind == kind and (value is None or tok.value == value)

    def at_word(self, word: str) -> bool:
        return self.at("NAME", word)

    def expect_op(self, op: str, why: str) -> None:
        if not self.at("OP", op):
            raise self.error(f"expected {op!r} {why}")
        self.advance()

    def error(self, message: str) -> ExpressionError:
        tok = self.tok
        found = "the end" if tok.kind == "EOF" else repr(self.text[tok.pos : tok.pos + 12])
        return ExpressionError(f"{message} at position {tok.pos} (found {found})")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH} levels")

    def parse(self) -> Node:
        if not self.text.strip():
            raise ExpressionError("the expression is empty")
        node = self.expression()
        if not self.at("EOF"):
            raise self.error("unexpected text after a complete expression")
        return node

    def expression(self) -> Node:
        self.enter()
        try:
            node = self.disjunction()
            if self.at_word("if"):
                self.advance()
                test = self.disjunction()
                if not self.at_word("else"):
                    raise self.error("expected 'else' in 'a if test else b'")
                self.advance()
                node = Cond(test, node, self.expression())
            return node
        finally:
            self.depth -= 1

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_word("or"):
            self.advance()
            node = Logic("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.inversion()
        while self.at_word("and"):
            self.advance()
            node = Logic("and", node, self.inversion())
        return node

    def inversion(self) -> Node:
        if self.at_word("not"):
            self.advance()
            self.enter()
            try:
                return Unary("not", self.inversion())
            finally:
                self.depth -= 1
        return self.comparison()

    def comparison(self) -> Node:
        first = self.sum()
        rest: list[tuple[str, Node]] = []
        while True:
            if self.tok.kind == "OP" and self.tok.value in _COMPARE_OPS:
                op = self.advance().value
            elif self.at_word("in"):
                self.advance()
                op = "in"
            elif self.at_word("not") and self.tokens[self.i + 1].kind == "NAME" and self.tokens[self.i + 1].value == "in":
                self.i += 2
                op = "not in"
            else:
                break
            rest.append((op, self.sum()))
        return Compare(first, tuple(rest)) if rest else first

    def sum(self) -> Node:
        node = self.term()
        while self.tok.kind == "OP" and self.tok.value in ("+", "-"):
            op = self.advance().value
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.tok.kind == "OP" and self.tok.value in ("*", "/", "//", "%"):
            op = self.advance().value
            node = Binary(op, node, self.factor())
        return node

    def factor(self) -> Node:
        if self.tok.kind == "OP" and self.tok.value in ("+", "-"):
            op = self.advance().value
            self.enter()
            try:
                return Unary(op, self.factor())
            finally:
                self.depth -= 1
        return self.postfix()

    def postfix(self) -> Node:
        node = self.atom()
        while True:
            if self.at("OP", "["):
                self.advance()
                self.enter()
                try:
                    index = self.expression()
                finally:
                    self.depth -= 1
                self.expect_op("]", "to close the index")
                node = Index(node, index)
            elif self.at("OP", "("):
                raise self.error("only the built-in functions can be called, by name")
            elif self.at("OP", "."):
                raise self.error(
                    "attribute access is not allowed ('.' only separates the parts of a name such as a.b.c)"
                )
            else:
                return node

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind == "NUM":
            self.advance()
            return Const(tok.value)
        if tok.kind == "STR":
            self.advance()
            return Const(tok.value)
        if tok.kind == "PATH":
            self.advance()
            try:
                jsonpath.parse(tok.value)
            except jsonpath.JSONPathError as exc:
                raise ExpressionError(f"backquoted path at position {tok.pos}: {exc}") from None
            return Path(tok.value)
        if tok.kind == "NAME":
            return self.name_or_call()
        if self.at("OP", "("):
            self.advance()
            self.enter()
            try:
                node = self.expression()
            finally:
                self.depth -= 1
            self.expect_op(")", "to close '('")
            return node
        if self.at("OP", "["):
            self.advance()
            items: list[Node] = []
            self.enter()
            try:
                while not self.at("OP", "]"):
                    items.append(self.expression())
                    if self.at("OP", ","):
                        self.advance()
                    elif not self.at("OP", "]"):
                        raise self.error("expected ',' or ']' in a list")
            finally:
                self.depth -= 1
            self.advance()
            return ListLit(tuple(items))
        if tok.kind == "EOF":
            raise self.error("the expression ends too early")
        raise self.error("expected a value, a name, a call or '('")

    def name_or_call(self) -> Node:
        tok = self.advance()
        word = str(tok.value)
        constants = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}
        if word in constants:
            return Const(constants[word])
        if word in _KEYWORDS:
            raise ExpressionError(f"{word!r} at position {tok.pos} cannot start a value")
        parts = [word]
        while self.at("OP", ".") and self.tokens[self.i + 1].kind == "NAME":
            self.advance()
            parts.append(str(self.advance().value))
        for part in parts:
            if part.startswith("__"):
                raise ExpressionError(
                    f"names starting with '__' are not allowed ({'.'.join(parts)!r} at position {tok.pos})"
                )
        if self.at("OP", "("):
            if len(parts) > 1:
                raise self.error(f"{'.'.join(parts)}(...) is attribute access; only the built-in functions can be called")
            if word not in FUNCTIONS:
                raise ExpressionError(
                    f"unknown function {word!r} at position {tok.pos}; the functions are {', '.join(sorted(FUNCTIONS))}"
                )
            self.advance()
            args: list[Node] = []
            self.enter()
            try:
                while not self.at("OP", ")"):
                    args.append(self.expression())
                    if self.at("OP", ","):
                        self.advance()
                    elif not self.at("OP", ")"):
                        raise self.error(f"expected ',' or ')' in the call of {word}")
            finally:
                self.depth -= 1
            self.advance()
            return Call(word, tuple(args))
        return Name(tuple(parts))


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Node:
    try:
        return _Parser(text).parse()
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested to read") from None


def parse(text: str) -> Node:
    """The tree of ``text`` (raises :class:`ExpressionError`)."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters")
    return _parse_cached(text)


# ----------------------------------------------------------------------------- values


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked(value: Any) -> Any:
    """Refuse results no JSON document should hold (or that would eat the memory)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise ExpressionError("an integer result is too large")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("a number result is not finite (inf or nan)")
    elif isinstance(value, str):
        if len(value) > _MAX_STR:
            raise ExpressionError(f"a string result is longer than {_MAX_STR} characters")
    elif isinstance(value, list):
        if len(value) > _MAX_LIST:
            raise ExpressionError(f"a list result has more than {_MAX_LIST} items")
    return value


def to_text(value: Any) -> str:
    """What ``str(value)`` gives: strings as they are, everything else as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return json.dumps(value, separators=(", ", ": "))


def _fn_len(x: Any) -> int:
    if not isinstance(x, (str, list, dict)):
        raise ExpressionError(f"len() takes a string, a list or an object, not {_kind(x)}")
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
        try:
            return int(x.strip())
        except ValueError:
            try:
                return int(float(x.strip()))
            except (ValueError, OverflowError):
                raise ExpressionError(f"int() cannot read {x!r} as a number") from None
    raise ExpressionError(f"int() takes a number, a boolean or a string, not {_kind(x)}")


def _fn_float(x: Any) -> float:
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x.strip())
        except ValueError:
            raise ExpressionError(f"float() cannot read {x!r} as a number") from None
    raise ExpressionError(f"float() takes a number, a boolean or a string, not {_kind(x)}")


def _fn_bool(x: Any) -> bool:
    return bool(x)


def _num_arg(name: str, x: Any) -> int | float:
    if not _is_num(x):
        raise ExpressionError(f"{name}() takes numbers, not {_kind(x)}")
    return x  # type: ignore[no-any-return]


def _fn_abs(x: Any) -> int | float:
    return abs(_num_arg("abs", x))


def _extremum(name: str, pick: Callable[[list[Any]], Any], args: Sequence[Any]) -> Any:
    items = list(args[0]) if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not items:
        raise ExpressionError(f"{name}() of nothing")
    if all(_is_num(v) for v in items) or all(isinstance(v, str) for v in items):
        return pick(items)
    raise ExpressionError(f"{name}() compares numbers with numbers or strings with strings")


def _fn_round(x: Any, digits: Any = None) -> int | float:
    value = _num_arg("round", x)
    if digits is None:
        return round(value)
    if not isinstance(digits, int) or isinstance(digits, bool):
        raise ExpressionError("round()'s second argument is a whole number of digits")
    return round(value, digits)


def _str_arg(name: str, x: Any) -> str:
    if not isinstance(x, str):
        raise ExpressionError(f"{name}() takes a string, not {_kind(x)}")
    return x


def _fn_sum(x: Any) -> int | float:
    if not isinstance(x, list) or not all(_is_num(v) for v in x):
        raise ExpressionError("sum() takes a list of numbers")
    return sum(x)


_Function = Callable[..., Any]

#: The functions an expression may call: name -> (callable, min args, max args).
FUNCTIONS: dict[str, tuple[_Function, int, int]] = {
    "len": (_fn_len, 1, 1),
    "str": (to_text, 1, 1),
    "int": (_fn_int, 1, 1),
    "float": (_fn_float, 1, 1),
    "bool": (_fn_bool, 1, 1),
    "abs": (_fn_abs, 1, 1),
    "min": (lambda *a: _extremum("min", min, a), 1, 10_000),
    "max": (lambda *a: _extremum("max", max, a), 1, 10_000),
    "sum": (_fn_sum, 1, 1),
    "round": (_fn_round, 1, 2),
    "upper": (lambda s: _str_arg("upper", s).upper(), 1, 1),
    "lower": (lambda s: _str_arg("lower", s).lower(), 1, 1),
    "strip": (lambda s: _str_arg("strip", s).strip(), 1, 1),
}


# ----------------------------------------------------------------------------- evaluation


class _Env:
    __slots__ = ("document", "context")

    def __init__(self, document: Any, context: Mapping[str, Any] | None) -> None:
        self.document = document
        self.context = context


def _lookup(env: _Env, parts: tuple[str, ...]) -> Any:
    head = parts[0]
    doc = env.document
    if isinstance(doc, dict) and head in doc:
        value = doc[head]
    elif head == "_context" and env.context is not None:
        value = dict(env.context)
    else:
        raise ExpressionError(f"name {head!r} is not defined: the state has no key {head!r}")
    for k, part in enumerate(parts[1:], start=1):
        if not isinstance(value, dict):
            raise ExpressionError(f"{'.'.join(parts[:k])} is {_kind(value)}, so it has no key {part!r}")
        if part not in value:
            raise ExpressionError(f"{'.'.join(parts[:k])} has no key {part!r}")
        value = value[part]
    return value


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, and containers compare item by item the same way.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_num(a) and _is_num(b):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    if op in ("in", "not in"):
        if isinstance(b, str):
            if not isinstance(a, str):
                raise ExpressionError(f"'{op}' a string needs a string on the left, not {_kind(a)}")
            found = a in b
        elif isinstance(b, list):
            found = any(_equal(a, item) for item in b)
        elif isinstance(b, dict):
            found = isinstance(a, str) and a in b
        else:
            raise ExpressionError(f"'{op}' needs a string, a list or an object on the right, not {_kind(b)}")
        return found if op == "in" else not found
    if not ((_is_num(a) and _is_num(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise ExpressionError(f"cannot order {_kind(a)} and {_kind(b)} with {op!r}")
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def _arith(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        if _is_num(a) and _is_num(b):
            return a + b
        if isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > _MAX_STR:
                raise ExpressionError(f"a string result is longer than {_MAX_STR} characters")
            return a + b
        if isinstance(a, list) and isinstance(b, list):
            return a + b
        hint = "; convert with str(...) first" if isinstance(a, str) or isinstance(b, str) else ""
        raise ExpressionError(f"cannot add {_kind(a)} and {_kind(b)}{hint}")
    if op == "*":
        if _is_num(a) and _is_num(b):
            return a * b
        seq, count = (a, b) if isinstance(a, (str, list)) else (b, a)
        if isinstance(seq, (str, list)) and isinstance(count, int) and not isinstance(count, bool):
            limit = _MAX_STR if isinstance(seq, str) else _MAX_LIST
            if len(seq) * max(count, 0) > limit:
                raise ExpressionError(f"repeating gives more than {limit} items")
            return seq * count
        raise ExpressionError(f"cannot multiply {_kind(a)} and {_kind(b)}")
    if not (_is_num(a) and _is_num(b)):
        raise ExpressionError(f"{op!r} takes numbers, not {_kind(a)} and {_kind(b)}")
    if op == "-":
        return a - b
    if b == 0:
        raise ExpressionError(f"division by zero ({to_text(a)} {op} 0)")
    if op == "/":
        return a / b
    if op == "//":
        return a // b
    return a % b


def _index(target: Any, index: Any) -> Any:
    if isinstance(target, (list, str)):
        if not isinstance(index, int) or isinstance(index, bool):
            raise ExpressionError(f"a {_kind(target)} index must be a whole number, not {_kind(index)}")
        if not -len(target) <= index < len(target):
            raise ExpressionError(f"index {index} is out of range for a {_kind(target)} of length {len(target)}")
        return target[index]
    if isinstance(target, dict):
        if not isinstance(index, str):
            raise ExpressionError(f"an object key must be a string, not {_kind(index)}")
        if index not in target:
            raise ExpressionError(f"the object has no key {index!r}")
        return target[index]
    raise ExpressionError(f"cannot index {_kind(target)}")


def _eval(node: Node, env: _Env) -> Any:
    if isinstance(node, Const):
        return node.value
    if isinstance(node, Name):
        return _lookup(env, node.parts)
    if isinstance(node, Path):
        try:
            return jsonpath.get(env.document, node.text, env.context)
        except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
            raise ExpressionError(str(exc)) from None
    if isinstance(node, Logic):
        left = _eval(node.left, env)
        if node.op == "and":
            return _eval(node.right, env) if left else left
        return left if left else _eval(node.right, env)
    if isinstance(node, Unary):
        value = _eval(node.operand, env)
        if node.op == "not":
            return not value
        if not _is_num(value):
            raise ExpressionError(f"unary {node.op!r} takes a number, not {_kind(value)}")
        return _checked(-value if node.op == "-" else +value)
    if isinstance(node, Binary):
        return _checked(_arith(node.op, _eval(node.left, env), _eval(node.right, env)))
    if isinstance(node, Compare):
        left = _eval(node.first, env)
        for op, right_node in node.rest:
            right = _eval(right_node, env)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, Cond):
        return _eval(node.then, env) if _eval(node.test, env) else _eval(node.otherwise, env)
    if isinstance(node, Call):
        fn, low, high = FUNCTIONS[node.function]
        if not low <= len(node.args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise ExpressionError(f"{node.function}() takes {want} argument(s), got {len(node.args)}")
        args = [_eval(a, env) for a in node.args]
        try:
            return _checked(fn(*args))
        except ExpressionError:
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            raise ExpressionError(f"{node.function}() failed: {exc}") from None
    if isinstance(node, Index):
        return _index(_eval(node.target, env), _eval(node.index, env))
    if isinstance(node, ListLit):
        return _checked([_eval(item, env) for item in node.items])
    raise ExpressionError(f"cannot evaluate {node!r}")  # pragma: no cover - every node is handled


def evaluate(text: str, document: Any, context: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``text`` against the state ``document`` (and the run ``context``).

    The result is a fresh JSON value (the document is never changed). Raises
    :class:`ExpressionError`.
    """
    tree = parse(text)
    try:
        value = _eval(tree, _Env(document, context))
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested to evaluate") from None
    return json.loads(json.dumps(value)) if isinstance(value, (list, dict)) else value
