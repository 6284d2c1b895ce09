"""The small JSONPath dialect Globus Flows definitions use (standard library only).

Paths start at ``$`` (the run's state document) and continue with steps:

============== ==============================================================
``.name``      a key of an object (any characters but ``.`` ``[`` and spaces)
``['x y']``    a key in quotes (single or double; ``\\`` escapes the next char)
``[0]``        an item of a list (``[-1]`` counts from the end)
``.*``/``[*]`` every value of an object or item of a list (reading only)
``[1:]``       a slice of a list, as in Python: ``[start:stop:step]``, each part
               optional, negative counts from the end (``[::-1]`` reverses; reading only)
============== ==============================================================

``$$.name`` and ``$._context.name`` read the *run context* (``run_id``, ``flow_id``, ...)
given as ``context``; the context is never part of the document and cannot be written.

:func:`get` reads (raising :class:`PathNotFound` when nothing is there), :func:`exists`
asks, :func:`put` writes (what ``ResultPath`` does). A path with a wildcard reads as
the list of what each branch found (branches that find nothing are skipped); a
slice fans out the same way over the items it selects, so ``$.items[1:]`` is a list
and ``$.items[1:].name`` the list of their names.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Mapping, Union

__all__ = ["JSONPathError", "PathNotFound", "WILDCARD", "Slice", "parse", "get", "exists", "put", "format_path", "kind"]


class JSONPathError(ValueError):
    """The text is not a JSONPath this dialect understands."""


class PathNotFound(LookupError):
    """A path named nothing in the document."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(f"JSONPath {path!r} matched nothing: {detail}")
        self.path = path
        self.detail = detail


class _Wildcard:
    __slots__ = ()

    def __repr__(self) -> str:
        return "WILDCARD"


#: The ``*`` step.
WILDCARD = _Wildcard()


@dataclass(frozen=True)
class Slice:
    """The ``[start:stop:step]`` step (``None`` where a part is left out)."""

    start: int | None
    stop: int | None
    step: int | None

    def text(self) -> str:
        parts = ["" if v is None else str(v) for v in (self.start, self.stop)]
        if self.step is not None:
            parts.append(str(self.step))
        return ":".join(parts)


Step = Union[str, int, _Wildcard, Slice]
#: Longest JSONPath text accepted (a definition's paths are short; this bounds the parser's work).
MAX_PATH_LENGTH = 10_000

_CONTEXT_KEY = "_context"


def _parse(path: str) -> tuple[bool, tuple[Step, ...]]:
    if not isinstance(path, str):
        raise JSONPathError(f"a JSONPath must be a string, not {type(path).__name__}")
    if len(path) > MAX_PATH_LENGTH:
        raise JSONPathError(f"a JSONPath is longer than {MAX_PATH_LENGTH} characters")
    return _parse_text(path)


def _slice_part(path: str, part: str, at: int) -> int | None:
    part = part.strip()
    if not part:
        return None
    if not (part.isascii() and part.lstrip("-").isdigit() and len(part) <= 19):
        raise JSONPathError(f"JSONPath {path!r}: slice part {part!r} at {at} is not a whole number")
    return int(part)


def _read_index(path: str, token: str, at: int) -> Step:
    if ":" in token:
        pieces = token.split(":")
        if len(pieces) > 3:
            raise JSONPathError(f"JSONPath {path!r}: a slice has at most three parts, [start:stop:step], at {at}")
        start, stop, step = (_slice_part(path, p, at) for p in (pieces + [""])[:3])
        if step == 0:
            raise JSONPathError(f"JSONPath {path!r}: a slice step cannot be zero (at {at})")
        return Slice(start, stop, step)
    # Only plain ASCII digits: int() would also take '1_000' or other scripts' digits.
    if token.isascii() and token.lstrip("-").isdigit() and token.count("-") <= 1 and len(token) <= 19:
        return int(token)
    raise JSONPathError(f"JSONPath {path!r}: [{token}] is not an index; quote keys: ['{token}']")


@functools.lru_cache(maxsize=2048)
def _parse_text(path: str) -> tuple[bool, tuple[Step, ...]]:
    if path.startswith("$$"):
        in_context, i = True, 2
    elif path.startswith("$"):
        in_context, i = False, 1
    else:
        raise JSONPathError(f"JSONPath {path!r} must start with '$'")
    steps: list[Step] = []
    n = len(path)
    while i < n:
        c = path[i]
        if c == ".":
            j = i + 1
            while j < n and path[j] not in ".[":
                j += 1
            name = path[i + 1 : j]
            if not name or any(ch.isspace() for ch in name):
                raise JSONPathError(
                    f"JSONPath {path!r} has an empty or spaced name after '.' at {i}; "
                    "write names with spaces as ['a name']"
                )
            steps.append(WILDCARD if name == "*" else name)
            i = j
        elif c == "[":
            j = i + 1
            if j < n and path[j] in "'\"":
                quote = path[j]
                j += 1
                buf: list[str] = []
                while j < n and path[j] != quote:
                    if path[j] == "\\" and j + 1 < n:
                        j += 1
                    buf.append(path[j])
                    j += 1
                if j + 1 >= n or path[j + 1] != "]":
                    raise JSONPathError(f"JSONPath {path!r} has an unclosed ['...'] at {i}")
                steps.append("".join(buf))
                i = j + 2
                continue
            close = path.find("]", j)
            if close < 0:
                raise JSONPathError(f"JSONPath {path!r} has an unclosed '[' at {i}")
            token = path[j:close].strip()
            steps.append(WILDCARD if token == "*" else _read_index(path, token, i))
            i = close + 1
        else:
            raise JSONPathError(f"JSONPath {path!r}: unexpected {c!r} at {i}; use .name, ['name'] or [0]")
    if not in_context and steps and steps[0] == _CONTEXT_KEY:
        in_context, steps = True, steps[1:]
    return in_context, tuple(steps)


def parse(path: str) -> tuple[Step, ...]:
    """The steps of ``path`` (raises :class:`JSONPathError`); context paths keep their root implicit."""
    return _parse(path)[1]


def format_path(steps: tuple[Step, ...] | list[Step]) -> str:
    """Steps back to text (``$.a['b c'][0]``), for messages."""
    out = ["$"]
    for step in steps:
        if isinstance(step, _Wildcard):
            out.append("[*]")
        elif isinstance(step, Slice):
            out.append(f"[{step.text()}]")
        elif isinstance(step, int):
            out.append(f"[{step}]")
        elif step.isidentifier():
            out.append("." + step)
        else:
            out.append("['" + step.replace("\\", "\\\\").replace("'", "\\'") + "']")
    return "".join(out)


def _walk(value: Any, steps: tuple[Step, ...], path: str, done: int) -> list[Any]:
    """Everything ``steps`` reach from ``value`` (one item unless a wildcard fans out)."""
    for k in range(done, len(steps)):
        step = steps[k]
        if isinstance(step, (_Wildcard, Slice)):
            if isinstance(step, Slice):
                if not isinstance(value, list):
                    raise PathNotFound(path, f"{format_path(steps[:k])} is {_kind(value)}, not a list to slice")
                children = value[step.start : step.stop : step.step]
            elif isinstance(value, dict):
                children = list(value.values())
            elif isinstance(value, list):
                children = list(value)
            else:
                raise PathNotFound(path, f"{format_path(steps[:k])} is {_kind(value)}, not an object or a list")
            found: list[Any] = []
            for child in children:
                try:
                    found.extend(_walk(child, steps, path, k + 1))
                except PathNotFound:
                    continue
            return [found]
        if isinstance(step, int):
            if not isinstance(value, list):
                raise PathNotFound(path, f"{format_path(steps[:k])} is {_kind(value)}, not a list")
            if not -len(value) <= step < len(value):
                raise PathNotFound(path, f"{format_path(steps[:k])} has {len(value)} item(s), no [{step}]")
            value = value[step]
        else:
            if not isinstance(value, dict):
                raise PathNotFound(path, f"{format_path(steps[:k])} is {_kind(value)}, not an object")
            if step not in value:
                raise PathNotFound(path, f"{format_path(steps[:k])} has no key {step!r}")
            value = value[step]
    return [value]


def kind(value: Any) -> str:
    """The JSON name of a value's type, for messages (``integer``/``number`` kept apart).

    The one namer of the flow language: the expression evaluator uses it as it is.
    """
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


_JSON_KINDS = frozenset({"boolean", "integer", "number", "string", "list", "object"})


def _kind(value: Any) -> str:
    """:func:`kind` with an article, integers and floats both "a number" (path messages)."""
    name = kind(value)
    if name not in _JSON_KINDS:
        return name  # null, or a Python type's name
    name = "number" if name == "integer" else name
    return ("an " if name == "object" else "a ") + name


def get(document: Any, path: str, context: Mapping[str, Any] | None = None) -> Any:
    """The value at ``path`` (raises :class:`PathNotFound` or :class:`JSONPathError`)."""
    in_context, steps = _parse(path)
    root: Any = document
    if in_context:
        if context is None:
            raise PathNotFound(path, "there is no run context here")
        root = dict(context)
    return _walk(root, steps, path, 0)[0]


def exists(document: Any, path: str, context: Mapping[str, Any] | None = None) -> bool:
    """Whether ``path`` names something (a wildcard path always does)."""
    try:
        get(document, path, context)
    except PathNotFound:
        return False
    return True


def put(document: Any, path: str, value: Any) -> Any:
    """Write ``value`` at ``path`` and return the new document.

    ``$`` replaces the whole document; otherwise ``document`` is changed in place,
    missing objects on the way are created, and a list index must already exist.
    Raises :class:`PathNotFound` when the way is blocked (a step into a string, a
    list index out of range), :class:`JSONPathError` for wildcards and the run context.
    """
    in_context, steps = _parse(path)
    if in_context:
        raise JSONPathError(f"JSONPath {path!r} names the run context, which is read-only")
    if any(isinstance(s, (_Wildcard, Slice)) for s in steps):
        raise JSONPathError(f"JSONPath {path!r} has a wildcard or a slice; a result needs one place to go")
    if not steps:
        return value
    target: Any = document
    for k, step in enumerate(steps[:-1]):
        nxt = steps[k + 1]
        if isinstance(step, int):
            if not isinstance(target, list) or not -len(target) <= step < len(target):
                raise PathNotFound(path, f"{format_path(steps[:k])} has no item [{step}]")
            child = target[step]
        else:
            if not isinstance(target, dict):
                raise PathNotFound(path, f"{format_path(steps[:k])} is {_kind(target)}, not an object")
            if step not in target or target[step] is None:
                target[step] = {} if isinstance(nxt, str) else []
            child = target[step]
        target = child
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(target, list) or not -len(target) <= last < len(target):
            raise PathNotFound(path, f"{format_path(steps[:-1])} has no item [{last}] to replace")
        target[last] = value
    else:
        if not isinstance(target, dict):
            raise PathNotFound(path, f"{format_path(steps[:-1])} is {_kind(target)}, not an object")
        target[last] = value
    return document
