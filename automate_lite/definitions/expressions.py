"""The expression language of ``.=`` keys and ExpressionEval states (standard library only).

The Globus Flows docs ("Authoring Flows: Expressions") describe a Python-like language
over the run's state: names are the state's keys (``foo + ' ' + object_val.sub_val1``),
``+`` joins strings and lists, and three functions are documented: ``pathsplit``,
``is_present`` and ``getattr``. The official example flows use more of Python: method
calls (``p.rstrip('/').rpartition('/')[2]``), comprehensions, dict literals,
conditional expressions, ``str()``/``len()``. This module reads that language with its
own tokenizer and recursive-descent parser and evaluates the tree by walking it: user
text is never given to ``eval``, ``exec``, ``compile``, ``ast`` or ``getattr``.

===================================  ==========================================================
construct (loosest binding first)    meaning
===================================  ==========================================================
``a if test else b``                 conditional (chains: ``a if p else b if q else c``)
``or``  ``and``  ``not``             Python truthiness; ``or``/``and`` return an operand
``== != < <= > >=``                  comparison, chained like Python (``1 < x <= 3``);
                                     ordering only between numbers or between strings
``in``  ``not in``  ``is``  ``is not``  membership in a string, a list or an object's keys;
                                     ``is`` compares like ``==`` (JSON has no identity)
``+ -``                              numbers; ``+`` also joins strings and lists
``* / // %``                         numbers; ``'ab' * 3`` and ``[0] * n`` repeat
``-x +x``  ``x ** y``                sign; power (bounded: results stay under 10**300)
``x[0]`` ``x[-1]`` ``x['key']``      index a list, a string or an object
``x[1:]`` ``x[::-1]`` ``x[a:b:c]``   slices of lists and strings
``x.key``                            a key of an object (``c.id``); missing keys are errors
``s.strip()`` ``l.index(v)`` ...     allowed methods only (see below); nothing else follows ``.``
``f(a, b)``                          a call of one of :data:`FUNCTIONS`, by name
``[a, b]`` ``{'k': v}`` ``(a, b)``   list, object and tuple literals (a tuple is a JSON list)
``[e for x in xs if c]``             list comprehensions (several ``for``/``if``; ``for k, v in``)
``{k: v for x in xs}``               object comprehensions; ``f(e for x in xs)`` passes a list
``42 1.5 2e3 'a' "b"``               numbers and strings (``\\n \\t \\xHH \\uHHHH`` escapes)
``true false null``                  also ``True False None``
``name``                             a state key (``x`` is ``$.x``), or a comprehension variable
``_context.run_id``                  the run context (also ``$._context`` in a JSONPath)
```$.a['b c'][0]```                  a backquoted JSONPath (see :mod:`.jsonpath`)
===================================  ==========================================================

Functions: ``pathsplit(p)``, ``is_present('a.b')``, ``getattr('a.b', default)`` (the
documented three; ``getattr(obj, 'key', default)`` also works on an object), and ``len``,
``str``, ``int``, ``float``, ``bool``, ``abs``, ``min``, ``max``, ``sum``, ``round``,
``upper``, ``lower``, ``strip``. Methods: of strings ``strip lstrip rstrip split rsplit
splitlines partition rpartition replace startswith endswith lower upper casefold title
capitalize swapcase join find rfind index rindex count removeprefix removesuffix zfill
center ljust rjust isalnum isalpha isdigit isdecimal isnumeric islower isupper isspace
istitle``; of lists ``index count``; of objects ``get keys values items``. No method
changes a value. Not supported: ``lambda``, assignment and keyword arguments, ``format``
and ``%``-formatting, bit operators, sets, names or attributes starting with ``__``.

Limits, so a flow cannot make the service (or a test) run away: text of at most
:data:`MAX_LENGTH` characters nested at most :data:`MAX_DEPTH` deep; at most
:data:`MAX_STEPS` units of work (each comprehension turn costs the size of its body,
each scan of a container its length) and :data:`MAX_ITERATIONS` comprehension turns;
at most :data:`MAX_CELLS` characters and items built in all; strings of at most
1,000,000 characters, lists and objects of at most 100,000 items, integers under 10**300.

Every problem (syntax, an unknown name, a type mismatch, division by zero, a limit)
raises :class:`ExpressionError`, whose message names the reason, the column and the
expression; :func:`parse` raises the syntax errors alone, so a validator can report
them before a flow is deployed.

The module is longer than the project's usual 500 lines because the tokenizer, the node
classes and the parser describe one grammar and are read together; the values, the
functions and the methods live in :mod:`.expression_library`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

from . import jsonpath
from .expression_library import (
    MAX_ITEMS,
    PURE_FUNCTIONS,
    ExpressionError,
    MissingError,
    arith,
    call_method,
    checked,
    compare,
    kind,
    method_names,
    to_text,
)

__all__ = ["ExpressionError", "FUNCTIONS", "Expression", "parse", "evaluate", "to_text"]

#: Longest expression text accepted.
MAX_LENGTH = 10_000
#: Deepest nesting of brackets and operators the parser follows.
MAX_DEPTH = 48
#: Units of work one evaluation may spend (see the module docstring).
MAX_STEPS = 1_000_000
#: Comprehension turns one evaluation may take.
MAX_ITERATIONS = 100_000
#: Characters and items one evaluation may build in all.
MAX_CELLS = 10_000_000
_MAX_LITERAL_DIGITS = 300
_T = TypeVar("_T")

# ----------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # NUM STR NAME PATH OP EOF
    value: Any
    pos: int


_KEYWORDS = frozenset(
    "and or not in is if else for lambda true false null True False None".split()
)
_CONSTANTS: dict[str, Any] = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}
_TWO_CHAR = ("==", "!=", "<=", ">=", "//", "**")
_ONE_CHAR = "()[]{},.:+-*/%<>"
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", "'": "'", '"': '"', "`": "`"}


def _digit(c: str) -> bool:
    # str.isdigit() is true for '²' and other digits int() will not read.
    return "0" <= c <= "9"


def _fail(reason: str, text: str, pos: int) -> ExpressionError:
    return ExpressionError(reason, text, pos + 1)


def _number(text: str, i: int) -> tuple[Any, int]:
    n = len(text)
    j = i
    while j < n and _digit(text[j]):
        j += 1
    is_float = False
    if j < n and text[j] == "." and not (j + 1 < n and (text[j + 1].isalpha() or text[j + 1] == "_")):
        is_float = True
        j += 1
        while j < n and _digit(text[j]):
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and _digit(text[k]):
            is_float = True
            j = k
            while j < n and _digit(text[j]):
                j += 1
    raw = text[i:j]
    if j < n and (text[j].isalnum() or text[j] == "_"):
        raise _fail(f"malformed number {text[i:j + 1]!r}", text, i)
    if len(raw) > _MAX_LITERAL_DIGITS:
        raise _fail(f"a number written with more than {_MAX_LITERAL_DIGITS} characters", text, i)
    value: Any = float(raw) if is_float else int(raw)
    if is_float and value == float("inf"):
        raise _fail(f"the number {raw[:20]!r} is too large", text, i)
    return value, j


def _string(text: str, i: int) -> tuple[str, int]:
    quote, n, j = text[i], len(text), i + 1
    buf: list[str] = []
    while True:
        if j >= n:
            what = "backquoted JSONPath" if quote == "`" else "string"
            raise _fail(f"unterminated {what}", text, i)
        ch = text[j]
        if ch == quote:
            return "".join(buf), j + 1
        if ch == "\\" and j + 1 < n and quote != "`":
            nxt = text[j + 1]
            width = {"x": 2, "u": 4}.get(nxt)
            if width is not None:
                digits = text[j + 2 : j + 2 + width]
                if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise _fail(f"bad \\{nxt} escape: it takes {width} hex digits", text, j)
                buf.append(chr(int(digits, 16)))
                j += 2 + width
                continue
            buf.append(_ESCAPES.get(nxt, "\\" + nxt))
            j += 2
            continue
        buf.append(ch)
        j += 1


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif _digit(c) or (c == "." and i + 1 < n and _digit(text[i + 1])):
            value, j = _number(text, i)
            tokens.append(_Token("NUM", value, i))
            i = j
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(_Token("NAME", text[i:j], i))
            i = j
        elif c in "'\"`":
            value, j = _string(text, i)
            tokens.append(_Token("PATH" if c == "`" else "STR", value, i))
            i = j
        elif text.startswith(_TWO_CHAR, i):
            tokens.append(_Token("OP", text[i : i + 2], i))
            i += 2
        elif c in _ONE_CHAR:
            tokens.append(_Token("OP", c, i))
            i += 1
        elif c == "=":
            raise _fail("'=': assignment and keyword arguments are not supported; compare with '=='", text, i)
        else:
            raise _fail(f"unexpected character {c!r}", text, i)
    tokens.append(_Token("EOF", None, n))
    return tokens


# ----------------------------------------------------------------------------- evaluation state


class _Env:
    __slots__ = ("document", "context", "locals", "steps", "iterations", "cells")

    def __init__(self, document: Any, context: Mapping[str, Any] | None) -> None:
        self.document = document
        self.context = context
        self.locals: dict[str, Any] = {}
        self.steps = MAX_STEPS
        self.iterations = MAX_ITERATIONS
        self.cells = MAX_CELLS

    def spend(self, steps: int) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise ExpressionError(f"the expression takes more than {MAX_STEPS} steps of work")

    def built(self, value: Any) -> Any:
        value = checked(value)
        if isinstance(value, (str, list, dict)):
            self.cells -= len(value)
            if self.cells < 0:
                raise ExpressionError(f"the expression builds more than {MAX_CELLS} characters and items in all")
        return value


def _size(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, dict)) else 1


# ----------------------------------------------------------------------------- tree


class Node:
    """A node of a parsed expression; ``pos`` is where it starts in the text (0-based)."""

    __slots__ = ("pos",)

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def ev(self, env: _Env) -> Any:  # pragma: no cover - every node class overrides it
        raise NotImplementedError

    def size(self) -> int:
        return 1

    def fail(self, reason: str) -> ExpressionError:
        return ExpressionError(reason, None, self.pos + 1)


class Const(Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: Any) -> None:
        super().__init__(pos)
        self.value = value

    def ev(self, env: _Env) -> Any:
        return self.value


class Name(Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str) -> None:
        super().__init__(pos)
        self.name = name

    def ev(self, env: _Env) -> Any:
        name = self.name
        if name in env.locals:
            return env.locals[name]
        doc = env.document
        if isinstance(doc, dict) and name in doc:
            return doc[name]
        if name == "_context" and env.context is not None:
            return dict(env.context)
        raise MissingError(f"name {name!r} is not defined: the state has no key {name!r}", None, self.pos + 1)


class Path(Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        super().__init__(pos)
        self.text = text

    def ev(self, env: _Env) -> Any:
        try:
            return jsonpath.get(env.document, self.text, env.context)
        except jsonpath.PathNotFound as exc:
            raise MissingError(str(exc), None, self.pos + 1) from None
        except jsonpath.JSONPathError as exc:
            raise self.fail(str(exc)) from None


class Attr(Node):
    __slots__ = ("target", "name", "src")

    def __init__(self, pos: int, target: Node, name: str, src: str) -> None:
        super().__init__(pos)
        self.target, self.name, self.src = target, name, src

    def size(self) -> int:
        return 1 + self.target.size()

    def ev(self, env: _Env) -> Any:
        value = self.target.ev(env)
        if isinstance(value, dict):
            if self.name in value:
                return value[self.name]
            raise MissingError(f"{self.src} has no key {self.name!r}", None, self.pos + 1)
        if self.name in method_names(value):
            raise self.fail(f"{self.src}.{self.name} is a method: call it, {self.src}.{self.name}(...)")
        raise self.fail(
            f"{self.src} is {kind(value)}, and attribute access is not allowed: only an object's keys "
            f"and the allowed methods can follow '.' ({self.src}.{self.name})"
        )


class Method(Node):
    __slots__ = ("target", "name", "args")

    def __init__(self, pos: int, target: Node, name: str, args: tuple[Node, ...]) -> None:
        super().__init__(pos)
        self.target, self.name, self.args = target, name, args

    def size(self) -> int:
        return 1 + self.target.size() + sum(a.size() for a in self.args)

    def ev(self, env: _Env) -> Any:
        target = self.target.ev(env)
        args = [a.ev(env) for a in self.args]
        env.spend(_size(target) + sum(_size(a) for a in args))
        try:
            return env.built(call_method(target, self.name, args))
        except ExpressionError as exc:
            raise exc.located(None, self.pos + 1) from None


class Call(Node):
    __slots__ = ("function", "args")

    def __init__(self, pos: int, function: str, args: tuple[Node, ...]) -> None:
        super().__init__(pos)
        self.function, self.args = function, args

    def size(self) -> int:
        return 1 + sum(a.size() for a in self.args)

    def ev(self, env: _Env) -> Any:
        fn, low, high = FUNCTIONS[self.function]
        if not low <= len(self.args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise self.fail(f"{self.function}() takes {want} argument(s), got {len(self.args)}")
        args = [a.ev(env) for a in self.args]
        env.spend(sum(_size(a) for a in args))
        try:
            if self.function in _STATE_FUNCTIONS:
                return env.built(fn(env, *args))
            return env.built(fn(*args))
        except ExpressionError as exc:
            raise exc.located(None, self.pos + 1) from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise self.fail(f"{self.function}() failed: {exc}") from None


class Index(Node):
    __slots__ = ("target", "index", "src")

    def __init__(self, pos: int, target: Node, index: Node, src: str) -> None:
        super().__init__(pos)
        self.target, self.index, self.src = target, index, src

    def size(self) -> int:
        return 1 + self.target.size() + self.index.size()

    def ev(self, env: _Env) -> Any:
        target = self.target.ev(env)
        index = self.index.ev(env)
        if isinstance(target, (list, str)):
            if not isinstance(index, int) or isinstance(index, bool):
                raise self.fail(f"a {kind(target)} index must be a whole number, not {kind(index)}")
            if not -len(target) <= index < len(target):
                raise MissingError(
                    f"index {index} is out of range for {self.src}, a {kind(target)} of length {len(target)}",
                    None,
                    self.pos + 1,
                )
            return target[index]
        if isinstance(target, dict):
            if not isinstance(index, str):
                raise self.fail(f"an object key must be a string, not {kind(index)}")
            if index not in target:
                raise MissingError(f"{self.src} has no key {index!r}", None, self.pos + 1)
            return target[index]
        raise self.fail(f"cannot index {kind(target)} ({self.src})")


class SliceOf(Node):
    __slots__ = ("target", "parts")

    def __init__(self, pos: int, target: Node, parts: tuple[Node | None, Node | None, Node | None]) -> None:
        super().__init__(pos)
        self.target, self.parts = target, parts

    def ev(self, env: _Env) -> Any:
        target = self.target.ev(env)
        bounds: list[int | None] = []
        for part in self.parts:
            value = None if part is None else part.ev(env)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise self.fail(f"slice bounds are whole numbers or null, not {kind(value)}")
            bounds.append(value)
        if bounds[2] == 0:
            raise self.fail("a slice step cannot be zero")
        if not isinstance(target, (list, str)):
            raise self.fail(f"cannot slice {kind(target)}")
        return env.built(target[bounds[0] : bounds[1] : bounds[2]])


class Unary(Node):
    __slots__ = ("op", "operand")

    def __init__(self, pos: int, op: str, operand: Node) -> None:
        super().__init__(pos)
        self.op, self.operand = op, operand

    def size(self) -> int:
        return 1 + self.operand.size()

    def ev(self, env: _Env) -> Any:
        value = self.operand.ev(env)
        if self.op == "not":
            return not value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"unary {self.op!r} takes a number, not {kind(value)}")
        return -value if self.op == "-" else +value


class Binary(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, pos: int, op: str, left: Node, right: Node) -> None:
        super().__init__(pos)
        self.op, self.left, self.right = op, left, right

    def size(self) -> int:
        return 1 + self.left.size() + self.right.size()

    def ev(self, env: _Env) -> Any:
        left = self.left.ev(env)
        right = self.right.ev(env)
        try:
            return env.built(arith(self.op, left, right))
        except ExpressionError as exc:
            raise exc.located(None, self.pos + 1) from None


class Logic(Node):
    __slots__ = ("op", "left", "right")

    def __init__(self, pos: int, op: str, left: Node, right: Node) -> None:
        super().__init__(pos)
        self.op, self.left, self.right = op, left, right

    def size(self) -> int:
        return 1 + self.left.size() + self.right.size()

    def ev(self, env: _Env) -> Any:
        left = self.left.ev(env)
        if self.op == "and":
            return self.right.ev(env) if left else left
        return left if left else self.right.ev(env)


class Compare(Node):
    __slots__ = ("first", "rest")

    def __init__(self, pos: int, first: Node, rest: tuple[tuple[str, int, Node], ...]) -> None:
        super().__init__(pos)
        self.first, self.rest = first, rest

    def size(self) -> int:
        return 1 + self.first.size() + sum(n.size() for _, _, n in self.rest)

    def ev(self, env: _Env) -> Any:
        left = self.first.ev(env)
        for op, pos, node in self.rest:
            right = node.ev(env)
            if isinstance(right, (list, dict)) or isinstance(left, (list, dict)):
                env.spend(_size(left) + _size(right))
            try:
                if not compare(op, left, right):
                    return False
            except ExpressionError as exc:
                raise exc.located(None, pos + 1) from None
            left = right
        return True


class Cond(Node):
    __slots__ = ("test", "then", "otherwise")

    def __init__(self, pos: int, test: Node, then: Node, otherwise: Node) -> None:
        super().__init__(pos)
        self.test, self.then, self.otherwise = test, then, otherwise

    def size(self) -> int:
        return 1 + self.test.size() + self.then.size() + self.otherwise.size()

    def ev(self, env: _Env) -> Any:
        return self.then.ev(env) if self.test.ev(env) else self.otherwise.ev(env)


class ListLit(Node):
    __slots__ = ("items",)

    def __init__(self, pos: int, items: tuple[Node, ...]) -> None:
        super().__init__(pos)
        self.items = items

    def size(self) -> int:
        return 1 + sum(i.size() for i in self.items)

    def ev(self, env: _Env) -> Any:
        return env.built([item.ev(env) for item in self.items])


class DictLit(Node):
    __slots__ = ("pairs",)

    def __init__(self, pos: int, pairs: tuple[tuple[Node, Node], ...]) -> None:
        super().__init__(pos)
        self.pairs = pairs

    def size(self) -> int:
        return 1 + sum(k.size() + v.size() for k, v in self.pairs)

    def ev(self, env: _Env) -> Any:
        out: dict[str, Any] = {}
        for key_node, value_node in self.pairs:
            out[_key(key_node, key_node.ev(env))] = value_node.ev(env)
        return env.built(out)


def _key(node: Node, key: Any) -> str:
    if not isinstance(key, str):
        raise node.fail(f"an object key must be a string, not {kind(key)}")
    return key


@dataclass(frozen=True)
class _For:
    targets: tuple[str, ...]
    iterable: Node
    conditions: tuple[Node, ...]
    pos: int


class Comprehension(Node):
    __slots__ = ("key", "element", "clauses", "cost")

    def __init__(self, pos: int, key: Node | None, element: Node, clauses: tuple[_For, ...]) -> None:
        super().__init__(pos)
        self.key, self.element, self.clauses = key, element, clauses
        body = element.size() + (key.size() if key is not None else 0)
        self.cost = 1 + body + sum(c.size() for f in clauses for c in f.conditions)

    def ev(self, env: _Env) -> Any:
        items: list[Any] = []
        pairs: dict[str, Any] = {}
        outer = env.locals
        env.locals = dict(outer)
        try:
            self._run(env, 0, items, pairs)
        finally:
            env.locals = outer
        return env.built(pairs if self.key is not None else items)

    def _run(self, env: _Env, depth: int, items: list[Any], pairs: dict[str, Any]) -> None:
        clause = self.clauses[depth]
        source = clause.iterable.ev(env)
        if isinstance(source, dict):
            source = list(source)
        elif not isinstance(source, (list, str)):
            raise ExpressionError(f"cannot loop over {kind(source)}", None, clause.pos + 1)
        scope = env.locals
        last = depth == len(self.clauses) - 1
        for item in source:
            env.iterations -= 1
            if env.iterations < 0:
                raise self.fail(f"the comprehensions take more than {MAX_ITERATIONS} turns")
            env.spend(self.cost)
            if len(clause.targets) == 1:
                scope[clause.targets[0]] = item
            else:
                if not isinstance(item, list) or len(item) != len(clause.targets):
                    raise ExpressionError(
                        f"cannot unpack {kind(item)} into {len(clause.targets)} names", None, clause.pos + 1
                    )
                for name, value in zip(clause.targets, item):
                    scope[name] = value
            if not all(cond.ev(env) for cond in clause.conditions):
                continue
            if not last:
                self._run(env, depth + 1, items, pairs)
            elif self.key is not None:
                pairs[_key(self.key, self.key.ev(env))] = self.element.ev(env)
            else:
                items.append(self.element.ev(env))
            if len(items) > MAX_ITEMS or len(pairs) > MAX_ITEMS:
                raise self.fail(f"a comprehension result has more than {MAX_ITEMS} items")


# ----------------------------------------------------------------------------- parser

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

    def at_op(self, op: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "OP" and tok.value == op

    def at_word(self, word: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == "NAME" and tok.value == word

    def expect_op(self, op: str, why: str) -> None:
        if not self.at_op(op):
            raise self.error(f"expected {op!r} {why}")
        self.advance()

    def error(self, message: str) -> ExpressionError:
        tok = self.tok
        found = "the end" if tok.kind == "EOF" else repr(self.text[tok.pos : tok.pos + 12])
        return _fail(f"{message} (found {found})", self.text, tok.pos)

    def nested(self, parse: Callable[[], _T]) -> _T:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(f"the expression nests deeper than {MAX_DEPTH} levels", self.text, self.tok.pos)
        try:
            return parse()
        finally:
            self.depth -= 1

    def src(self, start: int) -> str:
        # Called at the '.' or '[' that follows the target, so its text ends here.
        text = self.text[start : self.tok.pos].strip()
        return text if len(text) <= 40 else text[:37] + "..."

    def parse(self) -> Node:
        if not self.text.strip():
            raise ExpressionError("the expression is empty", self.text, 1)
        node = self.expression()
        if self.tok.kind != "EOF":
            raise self.error("unexpected text after a complete expression")
        return node

    def expression(self) -> Node:
        return self.nested(self._expression)

    def _expression(self) -> Node:
        node = self.disjunction()
        if self.at_word("if"):
            pos = self.advance().pos
            test = self.disjunction()
            if not self.at_word("else"):
                raise self.error("expected 'else' in 'a if test else b'")
            self.advance()
            node = Cond(pos, test, node, self.expression())
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_word("or"):
            pos = self.advance().pos
            node = Logic(pos, "or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.inversion()
        while self.at_word("and"):
            pos = self.advance().pos
            node = Logic(pos, "and", node, self.inversion())
        return node

    def inversion(self) -> Node:
        if self.at_word("not"):
            pos = self.advance().pos
            return Unary(pos, "not", self.nested(self.inversion))
        return self.comparison()

    def comparison(self) -> Node:
        first = self.sum()
        rest: list[tuple[str, int, Node]] = []
        while True:
            tok = self.tok
            nxt = self.tokens[self.i + 1] if tok.kind != "EOF" else tok
            if tok.kind == "OP" and tok.value in _COMPARE_OPS:
                op = tok.value
                self.i += 1
            elif self.at_word("in"):
                op = "in"
                self.i += 1
            elif self.at_word("not") and nxt.kind == "NAME" and nxt.value == "in":
                op = "not in"
                self.i += 2
            elif self.at_word("is"):
                self.i += 1
                op = "is"
                if self.at_word("not"):
                    self.i += 1
                    op = "is not"
            else:
                break
            rest.append((op, tok.pos, self.sum()))
        return Compare(first.pos, first, tuple(rest)) if rest else first

    def sum(self) -> Node:
        node = self.term()
        while self.tok.kind == "OP" and self.tok.value in ("+", "-"):
            tok = self.advance()
            node = Binary(tok.pos, tok.value, node, self.term())
        return node

    def term(self) -> Node:
        node = self.factor()
        while self.tok.kind == "OP" and self.tok.value in ("*", "/", "//", "%"):
            tok = self.advance()
            node = Binary(tok.pos, tok.value, node, self.factor())
        return node

    def factor(self) -> Node:
        if self.tok.kind == "OP" and self.tok.value in ("+", "-"):
            tok = self.advance()
            return Unary(tok.pos, tok.value, self.nested(self.factor))
        node = self.postfix()
        if self.at_op("**"):
            tok = self.advance()
            node = Binary(tok.pos, "**", node, self.nested(self.factor))
        return node

    def postfix(self) -> Node:
        start = self.tok.pos
        node = self.atom()
        while True:
            if self.at_op("["):
                target_src = self.src(start)
                pos = self.advance().pos
                node = self.nested(lambda: self.subscript(node, pos, target_src))
            elif self.at_op("."):
                target_src = self.src(start)
                pos = self.advance().pos
                tok = self.tok
                if tok.kind != "NAME" or tok.value in _KEYWORDS:
                    raise self.error("expected a key or a method name after '.'")
                name = str(tok.value)
                self.check_name(name, tok.pos)
                self.advance()
                if self.at_op("("):
                    self.advance()
                    node = Method(pos, node, name, self.nested(lambda: self.arguments(f".{name}()")))
                else:
                    node = Attr(pos, node, name, target_src)
            elif self.at_op("("):
                raise self.error("only the built-in functions can be called, by name")
            else:
                return node

    def subscript(self, target: Node, pos: int, target_src: str) -> Node:
        parts: list[Node | None] = []
        current: Node | None = None
        colons = 0
        while True:
            if self.at_op(":"):
                self.advance()
                parts.append(current)
                current = None
                colons += 1
                if colons > 2:
                    raise self.error("a slice has at most three parts, [start:stop:step]")
            elif self.at_op("]"):
                self.advance()
                break
            elif current is None:
                current = self.expression()
            else:
                raise self.error("expected ']' to close the index")
        if colons == 0:
            if current is None:
                raise _fail("an empty index []", self.text, pos)
            return Index(pos, target, current, target_src)
        parts.append(current)
        while len(parts) < 3:
            parts.append(None)
        return SliceOf(pos, target, (parts[0], parts[1], parts[2]))

    def arguments(self, what: str) -> tuple[Node, ...]:
        args: list[Node] = []
        while not self.at_op(")"):
            item = self.expression()
            if self.at_word("for") and not args:
                item = self.comprehension(item.pos, None, item)
                if not self.at_op(")"):
                    raise self.error(f"a comprehension as an argument of {what} must be its only argument")
            args.append(item)
            if self.at_op(","):
                self.advance()
            elif not self.at_op(")"):
                raise self.error(f"expected ',' or ')' in {what}")
        self.advance()
        return tuple(args)

    def check_name(self, name: str, pos: int) -> None:
        if name.startswith("__"):
            raise _fail(f"names starting with '__' are not allowed ({name!r})", self.text, pos)

    def comprehension(self, pos: int, key: Node | None, element: Node) -> Node:
        clauses: list[_For] = []
        while self.at_word("for"):
            for_pos = self.advance().pos
            targets: list[str] = []
            parens = self.at_op("(")
            if parens:
                self.advance()
            while True:
                tok = self.tok
                if tok.kind != "NAME" or tok.value in _KEYWORDS:
                    raise self.error("expected a name after 'for'")
                self.check_name(str(tok.value), tok.pos)
                targets.append(str(tok.value))
                self.advance()
                if not self.at_op(","):
                    break
                self.advance()
            if parens:
                self.expect_op(")", "to close the names after 'for'")
            if not self.at_word("in"):
                raise self.error("expected 'in' after 'for <name>'")
            self.advance()
            iterable = self.nested(self.disjunction)
            conditions: list[Node] = []
            while self.at_word("if"):
                self.advance()
                conditions.append(self.nested(self.disjunction))
            clauses.append(_For(tuple(targets), iterable, tuple(conditions), for_pos))
        return Comprehension(pos, key, element, tuple(clauses))

    def atom(self) -> Node:
        tok = self.tok
        if tok.kind in ("NUM", "STR"):
            self.advance()
            return Const(tok.pos, tok.value)
        if tok.kind == "PATH":
            self.advance()
            try:
                jsonpath.parse(tok.value)
            except jsonpath.JSONPathError as exc:
                raise _fail(f"backquoted path: {exc}", self.text, tok.pos) from None
            return Path(tok.pos, tok.value)
        if tok.kind == "NAME":
            return self.name_or_call()
        if self.at_op("("):
            self.advance()
            return self.nested(lambda: self.parenthesized(tok.pos))
        if self.at_op("["):
            self.advance()
            return self.nested(lambda: self.list_display(tok.pos))
        if self.at_op("{"):
            self.advance()
            return self.nested(lambda: self.dict_display(tok.pos))
        if tok.kind == "EOF":
            raise self.error("the expression ends too early")
        raise self.error("expected a value, a name, a call or '('")

    def parenthesized(self, pos: int) -> Node:
        if self.at_op(")"):
            self.advance()
            return ListLit(pos, ())
        first = self.expression()
        if self.at_word("for"):
            node = self.comprehension(pos, None, first)
            self.expect_op(")", "to close '('")
            return node
        if self.at_op(")"):
            self.advance()
            return first
        items = [first]
        while self.at_op(","):
            self.advance()
            if self.at_op(")"):
                break
            items.append(self.expression())
        self.expect_op(")", "to close '('")
        return ListLit(pos, tuple(items))

    def list_display(self, pos: int) -> Node:
        items: list[Node] = []
        while not self.at_op("]"):
            item = self.expression()
            if self.at_word("for") and not items:
                node = self.comprehension(pos, None, item)
                self.expect_op("]", "to close the comprehension")
                return node
            items.append(item)
            if self.at_op(","):
                self.advance()
            elif not self.at_op("]"):
                raise self.error("expected ',' or ']' in a list")
        self.advance()
        return ListLit(pos, tuple(items))

    def dict_display(self, pos: int) -> Node:
        pairs: list[tuple[Node, Node]] = []
        while not self.at_op("}"):
            key = self.expression()
            self.expect_op(":", "between a key and its value")
            value = self.expression()
            if self.at_word("for") and not pairs:
                node = self.comprehension(pos, key, value)
                self.expect_op("}", "to close the comprehension")
                return node
            pairs.append((key, value))
            if self.at_op(","):
                self.advance()
            elif not self.at_op("}"):
                raise self.error("expected ',' or '}' in an object")
        self.advance()
        return DictLit(pos, tuple(pairs))

    def name_or_call(self) -> Node:
        tok = self.advance()
        word = str(tok.value)
        if word in _CONSTANTS:
            return Const(tok.pos, _CONSTANTS[word])
        if word == "lambda":
            raise _fail("'lambda' is not supported", self.text, tok.pos)
        if word in _KEYWORDS:
            raise _fail(f"{word!r} cannot start a value", self.text, tok.pos)
        self.check_name(word, tok.pos)
        if self.at_op("("):
            if word not in FUNCTIONS:
                raise _fail(
                    f"unknown function {word!r}; the functions are {', '.join(sorted(FUNCTIONS))}",
                    self.text,
                    tok.pos,
                )
            self.advance()
            return Call(tok.pos, word, self.nested(lambda: self.arguments(f"the call of {word}")))
        return Name(tok.pos, word)


# ----------------------------------------------------------------------------- the state functions


_REFERENCE_NODES = (Name, Attr, Index, Const, Path)


def _reference(text: Any, function: str) -> Node:
    if not isinstance(text, str):
        raise ExpressionError(f"{function}() takes the name of a state value as a string, such as 'a.b', not {kind(text)}")
    if text.startswith("$"):
        try:
            jsonpath.parse(text)
        except jsonpath.JSONPathError as exc:
            raise ExpressionError(f"{function}(): {exc}") from None
        return Path(0, text)
    try:
        node = parse(text).tree
    except ExpressionError as exc:
        raise ExpressionError(f"{function}() cannot read the reference {text!r}: {exc.reason}") from None
    stack = [node]
    while stack:
        part = stack.pop()
        if not isinstance(part, _REFERENCE_NODES):
            raise ExpressionError(f"{function}() takes a reference such as 'a.b[0]', not the expression {text!r}")
        if isinstance(part, Attr):
            stack.append(part.target)
        elif isinstance(part, Index):
            stack.extend((part.target, part.index))
    return node


def _is_present(env: _Env, ref: Any) -> bool:
    try:
        _reference(ref, "is_present").ev(env)
    except MissingError:
        return False
    return True


def _getattr(env: _Env, ref: Any, default: Any = None, *more: Any) -> Any:
    if isinstance(ref, dict):
        # getattr(obj, 'key'[, default]), the Python shape, on an object.
        key = default
        if not isinstance(key, str):
            raise ExpressionError(f"getattr(object, key, default) takes a string key, not {kind(key)}")
        return ref.get(key, more[0] if more else None)
    if more:
        raise ExpressionError("getattr() takes a reference and a default, or an object, a key and a default")
    try:
        return _reference(ref, "getattr").ev(env)
    except MissingError:
        return default


_STATE_FUNCTIONS = frozenset({"is_present", "getattr"})

#: The functions an expression may call: name -> (callable, min args, max args).
#: ``is_present`` and ``getattr`` read the state, so their callables take the evaluation
#: environment first; the others are plain functions of their arguments.
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    **PURE_FUNCTIONS,
    "is_present": (_is_present, 1, 1),
    "getattr": (_getattr, 1, 3),
}


# ----------------------------------------------------------------------------- API


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its ``text`` and its ``tree``; :func:`evaluate` takes one."""

    text: str
    tree: Node


@functools.lru_cache(maxsize=1024)
def _parse_cached(text: str) -> Expression:
    try:
        return Expression(text, _Parser(text).parse())
    except RecursionError:
        raise ExpressionError("the expression is too deeply nested to read", text) from None


def parse(text: str) -> Expression:
    """Read ``text`` into an :class:`Expression` without evaluating it.

    Raises :class:`ExpressionError` (naming the column and the reason) when the text is
    not an expression: a validator calls this to catch a typo in a ``.=`` value.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", text[:80])
    return _parse_cached(text)


def _fresh(value: Any) -> Any:
    if not isinstance(value, (list, dict)):
        return value
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise ExpressionError(f"the result is not a JSON value: {exc}") from None


def evaluate(text: str | Expression, document: Any, context: Mapping[str, Any] | None = None) -> Any:
    """Evaluate ``text`` (or a parsed :class:`Expression`) against the state ``document``.

    Names read the keys of ``document``; ``_context`` reads the run ``context``. The
    result is a fresh JSON value (the document is never changed). Makes no HTTP call.
    Raises :class:`ExpressionError`.
    """
    expr = text if isinstance(text, Expression) else parse(text)
    try:
        return _fresh(expr.tree.ev(_Env(document, context)))
    except ExpressionError as exc:
        raise exc.located(expr.text, None) from None
    except RecursionError:
        raise ExpressionError("the expression or its values are too deeply nested to evaluate", expr.text) from None

