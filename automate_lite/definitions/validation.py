"""Local checks of a Globus Flows definition, before it is sent anywhere.

Standard library only (no jsonschema), so it stays cheap to import; the clients import
it lazily. Two entry points:

* :func:`flow_definition_problems` returns every problem as ``(json_path, message)``
  pairs and never raises, whatever it is given (the stand-in Flows service uses it to
  refuse invalid flows with the same messages);
* :func:`validate_flow_definition` raises :class:`~automate_lite.errors.FlowValidationError`
  carrying that list when it is not empty.

Neither modifies its argument.

What is checked
---------------
* Top level: an object with ``StartAt`` (a string naming a state), ``States`` (a
  non-empty object of state name -> state object) and an optional ``Comment`` string;
  any other top-level field is a problem.
* Every state: ``Type`` is one of ``Action, Pass, Choice, Wait, ExpressionEval, Fail,
  CreateWebInput, AwaitWebInput`` (``Succeed`` gets its own message: Globus Flows has
  none); ``Comment`` is a string; every state but Choice and Fail has exactly one of
  ``Next`` (naming an existing state) or ``"End": true``, and Choice and Fail have
  neither; fields a state type does not have are problems, except on the two web-input
  states, whose shape is checked leniently.
* Action: exactly one of ``ActionUrl`` (an http(s) URL) or ``Handler``; ``Parameters``
  or ``InputPath``, not both; ``ResultPath``; ``Catch`` (``ErrorEquals``, ``Next``,
  ``ResultPath``); ``WaitTime`` (a positive integer); ``RunAs``;
  ``ExceptionOnActionFailure`` (a boolean); ``ActionScope``.
* Pass: ``Parameters`` or ``InputPath`` (not both), ``ResultPath``, ``Result`` (any value).
* ExpressionEval: ``Parameters`` (required), ``ResultPath``.
* Wait: exactly one of ``Seconds`` (a non-negative number), ``SecondsPath``,
  ``Timestamp`` (a string), ``TimestampPath``.
* Choice: ``Choices``, a non-empty list of rules, each with ``Next``; a rule is a
  combinator (``And``/``Or`` with a non-empty list of rules, ``Not`` with one rule; the
  inner rules have no ``Next``) or a comparison (``Variable`` plus exactly one
  AWS-States-Language operator whose operand has the right type); optional ``Default``.
* Fail: optional ``Error`` and ``Cause`` strings.
* In every ``Parameters`` object, at any depth (nested objects and lists): keys ending
  in ``.$`` take a JSONPath string (``$``, ``$.x``, ``$[0]``, or a ``$$.`` context path);
  keys ending in ``.=`` take a non-empty expression whose brackets and quotes balance;
  ``__Private_Parameters`` is a list of strings.
* Paths: ``InputPath``, ``SecondsPath``, ``TimestampPath``, ``Variable`` and ``*Path``
  operands are JSONPaths as above; ``ResultPath`` starts with ``$.`` and does not
  write to the read-only ``$._context``.
* Every state is reachable from ``StartAt`` through ``Next``, ``Choices[].Next``,
  ``Default`` and ``Catch[].Next``.

Order of the problems
---------------------
The list is a pure function of the input (same input, same list), in this order:

1. the top level: not an object (then nothing else is reported); unknown top-level
   fields in document order; ``Comment``; ``StartAt``; ``States``;
2. each state, in the document order of ``States``; within a state: ``Type`` (a state
   whose type is missing or unknown gets no further checks), unknown fields (document
   order), ``Comment``, ``Next``/``End``, then the type's own fields in the order listed
   above. A ``Parameters`` object is walked depth-first in document order; ``Catch`` and
   ``Choices`` in list order, each item's unknown fields first; a choice rule's
   ``Next`` comes before its ``And``/``Or``/``Not`` or its ``Variable`` and operator;
3. unreachable states, in the document order of ``States`` (only when ``StartAt``
   names an existing state).

Paths use dot notation (``$.States.Transfer.Next``), with brackets for list indexes
and for names that are not identifiers (``$.States['Copy files'].Parameters['src.$']``).
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, TypeGuard
from urllib.parse import urlsplit

from ..errors import FlowValidationError

__all__ = ["validate_flow_definition", "flow_definition_problems", "STATE_TYPES"]

#: The state types Globus Flows accepts, in the order messages list them.
STATE_TYPES: tuple[str, ...] = (
    "Action",
    "Pass",
    "Choice",
    "Wait",
    "ExpressionEval",
    "Fail",
    "CreateWebInput",
    "AwaitWebInput",
)

_TOP_LEVEL_FIELDS = ("Comment", "StartAt", "States")
_TRANSITION_FIELDS = ("Next", "End")

# Fields each strictly-checked type may have besides Type, Comment, Next and End.
_FIELDS: dict[str, tuple[str, ...]] = {
    "Action": (
        "ActionUrl",
        "Handler",
        "Parameters",
        "InputPath",
        "ResultPath",
        "Catch",
        "WaitTime",
        "RunAs",
        "ExceptionOnActionFailure",
        "ActionScope",
    ),
    "Pass": ("Parameters", "InputPath", "ResultPath", "Result"),
    "ExpressionEval": ("Parameters", "ResultPath"),
    "Wait": ("Seconds", "SecondsPath", "Timestamp", "TimestampPath"),
    "Choice": ("Choices", "Default"),
    "Fail": ("Error", "Cause"),
}

_WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
_CATCH_FIELDS = ("ErrorEquals", "Next", "ResultPath", "Comment")

_COMPARISON_FAMILIES = {
    "String": ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    "Numeric": ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
    "Boolean": ("Equals",),
    "Timestamp": ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"),
}


def _build_operators() -> dict[str, str]:
    """Operator name -> the kind of operand it takes."""
    ops: dict[str, str] = {}
    for family, suffixes in _COMPARISON_FAMILIES.items():
        for suffix in suffixes:
            ops[family + suffix] = family.lower()
            ops[family + suffix + "Path"] = "path"
    ops["StringMatches"] = "string"
    for name in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        ops[name] = "boolean"
    return ops


_OPERATORS = _build_operators()
_COMBINATORS = ("And", "Or", "Not")
_RULE_FIELDS = frozenset({"Variable", "Next", "Comment", *_COMBINATORS, *_OPERATORS})
# Deeper And/Or/Not nesting than this is reported rather than followed; it bounds
# recursion for any input (including a Python object that contains itself).
_MAX_RULE_DEPTH = 32

_OPERAND_WORDS = {
    "string": "a string",
    "numeric": "a number",
    "boolean": "true or false",
    "timestamp": "a timestamp string",
    "path": 'a JSONPath string starting with "$"',
}

_PATH_HINT = 'a JSONPath string starting with "$" (such as "$.input.value")'

Problem = tuple[str, str]


# ----------------------------------------------------------------------------- helpers


def _child(path: str, key: object) -> str:
    """The JSON path of ``key`` inside the object at ``path``."""
    if isinstance(key, str):
        if key.isidentifier():
            return f"{path}.{key}"
        return "%s['%s']" % (path, key.replace("\\", "\\\\").replace("'", "\\'"))
    return f"{path}[{_repr(key)}]"


def _repr(value: object) -> str:
    """``repr`` for keys/values JSON cannot hold, kept short and safe."""
    if isinstance(value, int) and value.bit_length() > 64:
        return "<a large number>"  # repr of a huge int can raise (int digit limit)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _quote(value: object) -> str:
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 80 else text[:76] + '..."'
    return _repr(value)


def _found(value: object) -> str:
    """A short description of what was found, for ``(found ...)``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int) and value.bit_length() > 64:
        return "a large number"  # repr of a huge int can raise (int digit limit)
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else "a number"
    if isinstance(value, Mapping):
        return "an object" if value else "an empty object"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def _names(names: list[str] | tuple[str, ...]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _article(word: str) -> str:
    return ("an " if word[:1] in "AEIOU" else "a ") + word


def _is_list(value: object) -> TypeGuard[list[Any] | tuple[Any, ...]]:
    return isinstance(value, (list, tuple))


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _is_jsonpath(value: object) -> bool:
    """``$``, ``$.x``, ``$[0]``, ``$$``, ``$$.x`` (context paths) and the like."""
    if not isinstance(value, str):
        return False
    if value in ("$", "$$"):
        return True
    rest = value[2:] if value.startswith("$$") else value[1:] if value.startswith("$") else ""
    return len(rest) >= 2 and rest[0] in ".["


def _suggest(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    """``; did you mean "X"?`` for a likely typo, else ``""``."""
    if len(word) > 100:  # not a typo, and difflib is quadratic
        return ""
    import difflib  # only needed when something is misspelt

    close = difflib.get_close_matches(word, list(candidates), n=2, cutoff=0.75)
    if not close:
        return ""
    return "; did you mean " + " or ".join(_quote(c) for c in close) + "?"


def _expression_problem(expr: str) -> str | None:
    """Why ``expr`` cannot be an expression (unbalanced brackets or quotes), or None."""
    closing = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    quote: str | None = None
    escaped = False
    for ch in expr:
        if quote is not None:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in closing:
            if not stack:
                return f"has a {ch!r} that closes nothing"
            if stack[-1] != closing[ch]:
                return f"has a {ch!r} that does not match the {stack[-1]!r} before it"
            stack.pop()
    if quote is not None:
        return f"has a string that is never closed (missing {quote})"
    if stack:
        return f"has a {stack[-1]!r} that is never closed"
    return None


# ----------------------------------------------------------------------------- checker


class _Checker:
    """Collects problems for one definition; see the module docstring for the order."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.state_names: list[str] = []
        self.state_set: frozenset[str] = frozenset()
        # Transitions seen per state (state name -> names it can lead to), in order.
        self.edges: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def check_string(self, path: str, obj: Mapping[Any, Any], key: str) -> None:
        """If ``obj`` has ``key``, its value must be a string."""
        if key in obj and not isinstance(obj[key], str):
            self.add(_child(path, key), f"{key} must be a string (found {_found(obj[key])})")

    # -- top level -------------------------------------------------------------------

    def check(self, definition: object) -> list[Problem]:
        if not isinstance(definition, Mapping):
            self.add(
                "$",
                "a flow definition must be a JSON object with StartAt and States "
                f"(found {_found(definition)})",
            )
            return self.problems

        for key in definition:
            if key not in _TOP_LEVEL_FIELDS:
                self.add(
                    _child("$", key),
                    f"unknown top-level field {_quote(key)}; a flow definition has only "
                    "Comment, StartAt and States" + _suggest(str(key), _TOP_LEVEL_FIELDS),
                )

        self.check_string("$", definition, "Comment")

        states = definition.get("States")
        states_ok = isinstance(states, Mapping) and len(states) > 0
        if isinstance(states, Mapping):
            self.state_names = [name for name in states if isinstance(name, str)]
            self.state_set = frozenset(self.state_names)

        start_ok = False
        if "StartAt" not in definition:
            self.add("$.StartAt", "StartAt is missing; it must name the state the flow starts with")
        else:
            start = definition["StartAt"]
            if not isinstance(start, str):
                self.add(
                    "$.StartAt",
                    f"StartAt must be a string naming the first state (found {_found(start)})",
                )
            elif states_ok:
                start_ok = self.check_reference("$.StartAt", "StartAt", start)

        if "States" not in definition:
            self.add("$.States", "States is missing; it must be an object of state name -> state")
        elif not isinstance(states, Mapping):
            self.add(
                "$.States",
                f"States must be an object of state name -> state (found {_found(states)})",
            )
        elif not states:
            self.add("$.States", "States is empty; a flow needs at least one state")

        if isinstance(states, Mapping):
            for name, state in states.items():
                self.check_state(_child("$.States", name), name, state)

        if start_ok and isinstance(states, Mapping):
            self.check_reachable(definition["StartAt"], states)
        return self.problems

    def check_reference(self, path: str, field: str, target: object) -> bool:
        """Check that ``target`` names an existing state; True when it does."""
        if not isinstance(target, str):
            self.add(path, f"{field} must be a string naming a state (found {_found(target)})")
            return False
        if target in self.state_set:
            return True
        hint = _suggest(target, self.state_names)
        if not hint and 0 < len(self.state_names) <= 8:
            hint = "; the states are " + _names([_quote(n) for n in self.state_names])
        self.add(path, f"{field} names a state {_quote(target)} that does not exist{hint}")
        return False

    def check_reachable(self, start: str, states: Mapping[Any, Any]) -> None:
        seen = {start}
        todo = [start]
        while todo:
            for nxt in self.edges.get(todo.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for name in states:
            if isinstance(name, str) and name not in seen:
                self.add(
                    _child("$.States", name),
                    f"state {_quote(name)} can never run: no Next, Choices, Default or Catch "
                    f"leads to it from StartAt ({_quote(start)}); link to it or remove it",
                )

    def edge(self, source: object, target: object) -> None:
        if isinstance(source, str) and isinstance(target, str) and target in self.state_set:
            self.edges.setdefault(source, []).append(target)

    # -- states ----------------------------------------------------------------------

    def check_state(self, path: str, name: object, state: object) -> None:
        if not isinstance(name, str):
            self.add(path, f"state names must be strings (found {_found(name)})")
        if not isinstance(state, Mapping):
            self.add(path, f"a state must be an object with a Type (found {_found(state)})")
            return

        stype = state.get("Type")
        valid = "one of " + ", ".join(STATE_TYPES)
        if "Type" not in state:
            self.add(_child(path, "Type"), f"Type is missing; it must be {valid}")
        elif stype == "Succeed":
            self.add(
                _child(path, "Type"),
                'Globus Flows has no Succeed state; use a Pass state with "End": true',
            )
        elif not isinstance(stype, str) or stype not in STATE_TYPES:
            hint = _suggest(stype, STATE_TYPES) if isinstance(stype, str) else ""
            self.add(_child(path, "Type"), f"Type must be {valid} (found {_found(stype)}){hint}")

        if not isinstance(stype, str) or stype not in STATE_TYPES:
            # Without a known type the rest cannot be judged; still follow whatever
            # transitions it names, so its successors are not also called unreachable.
            self.collect_edges(name, state)
            return

        if stype in _FIELDS:
            # CreateWebInput / AwaitWebInput are left out on purpose: their fields are
            # not pinned down in the sources we have, so unknown fields are allowed.
            self.check_unknown_fields(path, stype, state)

        self.check_string(path, state, "Comment")

        self.check_transition(path, name, stype, state)

        if stype == "Action":
            self.check_action(path, name, state)
        elif stype == "Pass":
            self.check_input(path, stype, state)
            self.check_result_path(path, state)
        elif stype == "ExpressionEval":
            if "Parameters" not in state:
                self.add(
                    _child(path, "Parameters"),
                    "an ExpressionEval state needs Parameters, the object to evaluate",
                )
            else:
                self.check_parameters(_child(path, "Parameters"), state["Parameters"])
            self.check_result_path(path, state)
        elif stype == "Wait":
            self.check_wait(path, state)
        elif stype == "Choice":
            self.check_choice(path, name, state)
        elif stype == "Fail":
            self.check_string(path, state, "Error")
            self.check_string(path, state, "Cause")
        else:  # web-input states: lenient, only the shared fields are checked
            self.check_input(path, stype, state, exclusive=False)
            self.check_result_path(path, state)

    def collect_edges(self, name: object, state: Mapping[Any, Any]) -> None:
        self.edge(name, state.get("Next"))
        self.edge(name, state.get("Default"))
        for key in ("Choices", "Catch"):
            items = state.get(key)
            if _is_list(items):
                for item in items:
                    if isinstance(item, Mapping):
                        self.edge(name, item.get("Next"))

    def check_unknown_fields(self, path: str, stype: str, state: Mapping[Any, Any]) -> None:
        own = _FIELDS[stype]
        transitions = () if stype in ("Choice", "Fail") else _TRANSITION_FIELDS
        allowed = ("Type", "Comment", *own, *transitions)
        for key in state:
            if key in allowed or key in _TRANSITION_FIELDS:
                continue  # Next/End on Choice/Fail get their own message
            where = _child(path, key)
            if key == "OutputPath":
                self.add(
                    where,
                    "Globus Flows does not support OutputPath; "
                    "use ResultPath to say where the result goes",
                )
                continue
            hint = _suggest(key, allowed) if isinstance(key, str) else ""
            self.add(
                where,
                f"{_article(stype)} state has no field {_quote(key)}; its fields are "
                f"{_names(list(allowed))}{hint}",
            )

    def check_transition(self, path: str, name: object, stype: str, state: Mapping[Any, Any]) -> None:
        has_next = "Next" in state
        end = state.get("End")
        if stype in ("Choice", "Fail"):
            why = (
                "a Choice state picks the next state through Choices and Default"
                if stype == "Choice"
                else "a Fail state ends the run"
            )
            if has_next:
                self.add(_child(path, "Next"), f"{why}; remove Next")
            if "End" in state:
                self.add(_child(path, "End"), f"{why}; remove End")
            return

        if "End" in state and not isinstance(end, bool):
            # The intent to end (or not) is clear enough; one problem is enough.
            self.add(_child(path, "End"), f"End must be true or false (found {_found(end)})")
        elif has_next and end is True:
            self.add(
                path,
                f'{_article(stype)} state needs exactly one of Next or "End": true (found both); '
                "remove one",
            )
        elif not has_next and end is not True:
            found = '"End": false' if end is False else "neither"
            self.add(
                path,
                f'{_article(stype)} state needs exactly one of Next (the state to run after it) '
                f'or "End": true (found {found})',
            )
        if has_next and self.check_reference(_child(path, "Next"), "Next", state["Next"]):
            self.edge(name, state["Next"])

    # -- shared fields ---------------------------------------------------------------

    def check_input(
        self, path: str, stype: str, state: Mapping[Any, Any], *, exclusive: bool = True
    ) -> None:
        if exclusive and "Parameters" in state and "InputPath" in state:
            self.add(
                path,
                f"{_article(stype)} state takes its input from Parameters or InputPath, "
                "not both; remove one",
            )
        if "Parameters" in state:
            self.check_parameters(_child(path, "Parameters"), state["Parameters"])
        if "InputPath" in state:
            self.check_jsonpath(_child(path, "InputPath"), "InputPath", state["InputPath"])

    def check_jsonpath(self, path: str, field: str, value: object) -> None:
        if not _is_jsonpath(value):
            self.add(path, f"{field} must be {_PATH_HINT} (found {_found(value)})")

    def check_result_path(self, path: str, state: Mapping[Any, Any]) -> None:
        if "ResultPath" in state:
            self.check_result_path_value(_child(path, "ResultPath"), state["ResultPath"])

    def check_result_path_value(self, path: str, value: object) -> None:
        if not isinstance(value, str) or not value.startswith("$.") or len(value) < 3:
            self.add(
                path,
                'ResultPath must be a JSONPath string starting with "$." (such as '
                f'"$.result"), saying where the result goes (found {_found(value)})',
            )
        elif value == "$._context" or value.startswith(("$._context.", "$._context[")):
            self.add(path, "ResultPath cannot write to $._context, which is read-only")

    def check_parameters(self, path: str, params: object) -> None:
        if not isinstance(params, Mapping):
            self.add(path, f"Parameters must be an object (found {_found(params)})")
            return
        # Iterative depth-first walk in document order: any depth of nesting is fine,
        # and a Python object that contains itself is reported instead of looping.
        todo: list[tuple[str, object, bool]] = [(path, params, False)]
        open_ids: set[int] = set()
        while todo:
            where, node, leaving = todo.pop()
            if leaving:
                open_ids.discard(id(node))
                continue
            if id(node) in open_ids:
                self.add(where, "this value contains itself, which JSON cannot express")
                continue
            children: list[tuple[str, object, bool]] = []
            if isinstance(node, Mapping):
                for key, value in node.items():
                    child = _child(where, key)
                    if isinstance(key, str) and key.endswith(".$"):
                        if not _is_jsonpath(value):
                            self.add(
                                child,
                                f'a key ending in ".$" takes {_PATH_HINT} (found {_found(value)})',
                            )
                    elif isinstance(key, str) and key.endswith(".="):
                        self.check_expression(child, value)
                    elif key == "__Private_Parameters":
                        if not _is_list(value) or not all(isinstance(v, str) for v in value):
                            self.add(
                                child,
                                "__Private_Parameters must be a list of field names (strings) "
                                f"to hide (found {_found(value)})",
                            )
                    elif isinstance(value, Mapping) or _is_list(value):
                        children.append((child, value, False))
            elif _is_list(node):
                for i, value in enumerate(node):
                    if isinstance(value, Mapping) or _is_list(value):
                        children.append((_index(where, i), value, False))
            if children:
                open_ids.add(id(node))
                todo.append((where, node, True))
                todo.extend(reversed(children))

    def check_expression(self, path: str, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            self.add(
                path,
                f'a key ending in ".=" takes a non-empty expression string (found {_found(value)})',
            )
            return
        why = _expression_problem(value)
        if why is not None:
            self.add(path, f"the expression {_quote(value)} {why}")

    # -- Action ----------------------------------------------------------------------

    def check_action(self, path: str, name: object, state: Mapping[Any, Any]) -> None:
        has_url, has_handler = "ActionUrl" in state, "Handler" in state
        if has_url == has_handler:
            self.add(
                path,
                "an Action state needs exactly one of ActionUrl (the action provider's URL) or "
                f"Handler (found {'both' if has_url else 'neither'})",
            )
        if has_url:
            url = state["ActionUrl"]
            if not _is_http_url(url):
                self.add(
                    _child(path, "ActionUrl"),
                    "ActionUrl must be an http:// or https:// URL such as "
                    f'"https://actions.globus.org/hello_world" (found {_found(url)})',
                )
        if has_handler:
            handler = state["Handler"]
            if not isinstance(handler, str) or not handler.strip():
                self.add(
                    _child(path, "Handler"),
                    f"Handler must be a non-empty string (found {_found(handler)})",
                )

        self.check_input(path, "Action", state)
        self.check_result_path(path, state)

        if "Catch" in state:
            self.check_catch(_child(path, "Catch"), name, state["Catch"])
        if "WaitTime" in state:
            wait = state["WaitTime"]
            if isinstance(wait, bool) or not isinstance(wait, int) or wait <= 0:
                self.add(
                    _child(path, "WaitTime"),
                    f"WaitTime must be a positive whole number of seconds (found {_found(wait)})",
                )
        self.check_string(path, state, "RunAs")
        if "ExceptionOnActionFailure" in state:
            flag = state["ExceptionOnActionFailure"]
            if not isinstance(flag, bool):
                self.add(
                    _child(path, "ExceptionOnActionFailure"),
                    f"ExceptionOnActionFailure must be true or false (found {_found(flag)})",
                )
        self.check_string(path, state, "ActionScope")

    def check_catch(self, path: str, name: object, catch: object) -> None:
        if not _is_list(catch):
            self.add(path, f"Catch must be a list of catchers (found {_found(catch)})")
            return
        for i, catcher in enumerate(catch):
            where = _index(path, i)
            if not isinstance(catcher, Mapping):
                self.add(
                    where,
                    f"a catcher must be an object with ErrorEquals and Next (found {_found(catcher)})",
                )
                continue
            for key in catcher:
                if key not in _CATCH_FIELDS:
                    hint = _suggest(key, _CATCH_FIELDS) if isinstance(key, str) else ""
                    self.add(
                        _child(where, key),
                        f"a catcher has no field {_quote(key)}; its fields are "
                        f"{_names(_CATCH_FIELDS)}{hint}",
                    )
            self.check_string(where, catcher, "Comment")
            errors = catcher.get("ErrorEquals")
            if "ErrorEquals" not in catcher:
                self.add(
                    _child(where, "ErrorEquals"),
                    'a catcher needs ErrorEquals, a list of error names such as ["States.ALL"]',
                )
            elif not _is_list(errors) or not errors or not all(isinstance(e, str) for e in errors):
                self.add(
                    _child(where, "ErrorEquals"),
                    "ErrorEquals must be a non-empty list of error names (strings) "
                    f"(found {_found(errors)})",
                )
            if "Next" not in catcher:
                self.add(
                    _child(where, "Next"),
                    "a catcher needs Next, the state to run when it catches an error",
                )
            elif self.check_reference(_child(where, "Next"), "Next", catcher["Next"]):
                self.edge(name, catcher["Next"])
            if "ResultPath" in catcher:
                self.check_result_path_value(_child(where, "ResultPath"), catcher["ResultPath"])

    # -- Wait ------------------------------------------------------------------------

    def check_wait(self, path: str, state: Mapping[Any, Any]) -> None:
        present = [key for key in _WAIT_FIELDS if key in state]
        if len(present) != 1:
            found = "none" if not present else _names(present)
            self.add(
                path,
                f"a Wait state needs exactly one of {', '.join(_WAIT_FIELDS)} (found {found})",
            )
        if "Seconds" in state:
            seconds = state["Seconds"]
            if not _is_number(seconds) or seconds < 0:
                self.add(
                    _child(path, "Seconds"),
                    f"Seconds must be a number of seconds, 0 or more (found {_found(seconds)})",
                )
        if "Timestamp" in state and not isinstance(state["Timestamp"], str):
            self.add(
                _child(path, "Timestamp"),
                'Timestamp must be a timestamp string such as "2030-01-01T00:00:00Z" '
                f"(found {_found(state['Timestamp'])})",
            )
        for key in ("SecondsPath", "TimestampPath"):
            if key in state:
                self.check_jsonpath(_child(path, key), key, state[key])

    # -- Choice ----------------------------------------------------------------------

    def check_choice(self, path: str, name: object, state: Mapping[Any, Any]) -> None:
        choices = state.get("Choices")
        where = _child(path, "Choices")
        if "Choices" not in state:
            self.add(where, "a Choice state needs Choices, a non-empty list of rules")
        elif not _is_list(choices) or not choices:
            self.add(where, f"Choices must be a non-empty list of rules (found {_found(choices)})")
        else:
            for i, rule in enumerate(choices):
                self.check_rule(_index(where, i), name, rule, top=True, depth=0)
        if "Default" in state:
            if self.check_reference(_child(path, "Default"), "Default", state["Default"]):
                self.edge(name, state["Default"])

    def check_rule(self, path: str, name: object, rule: object, *, top: bool, depth: int) -> None:
        if not isinstance(rule, Mapping):
            self.add(path, f"a choice rule must be an object (found {_found(rule)})")
            return
        if depth > _MAX_RULE_DEPTH:
            self.add(path, f"choice rules are nested more than {_MAX_RULE_DEPTH} deep; simplify them")
            return

        for key in rule:
            if key not in _RULE_FIELDS:
                hint = _suggest(key, sorted(_RULE_FIELDS)) if isinstance(key, str) else ""
                self.add(
                    _child(path, key),
                    f"a choice rule has no field {_quote(key)}; a rule is And, Or or Not, or "
                    "Variable with one comparison operator such as StringEquals, "
                    f"NumericGreaterThan, BooleanEquals or IsPresent{hint}",
                )
        self.check_string(path, rule, "Comment")

        if top:
            if "Next" not in rule:
                self.add(
                    _child(path, "Next"),
                    "each rule in Choices needs Next, the state to run when it matches",
                )
            elif self.check_reference(_child(path, "Next"), "Next", rule["Next"]):
                self.edge(name, rule["Next"])
        elif "Next" in rule:
            self.add(
                _child(path, "Next"),
                "only the rules directly in Choices have Next; "
                "remove it from this rule inside And, Or or Not",
            )

        combinators = [key for key in _COMBINATORS if key in rule]
        operators = [key for key in rule if isinstance(key, str) and key in _OPERATORS]
        if combinators:
            if "Variable" in rule or operators:
                self.add(
                    path,
                    "a choice rule is either a combinator (And, Or, Not) or a comparison "
                    "(Variable and an operator), not both",
                )
            if len(combinators) > 1:
                self.add(
                    path,
                    f"a choice rule has only one of And, Or, Not (found {_names(combinators)})",
                )
            for key in combinators:
                self.check_combinator(_child(path, key), name, key, rule[key], depth)
            return

        if "Variable" not in rule:
            self.add(
                _child(path, "Variable"),
                "a comparison rule needs Variable, the JSONPath of the value to compare "
                '(such as "$.input.size")',
            )
        else:
            self.check_jsonpath(_child(path, "Variable"), "Variable", rule["Variable"])
        if len(operators) != 1:
            found = "none" if not operators else _names(operators)
            self.add(
                path,
                "a comparison rule needs exactly one comparison operator such as StringEquals, "
                f"NumericGreaterThan, BooleanEquals or IsPresent (found {found})",
            )
        for op in operators:
            self.check_operand(_child(path, op), op, rule[op])

    def check_combinator(self, path: str, name: object, key: str, value: object, depth: int) -> None:
        if key == "Not":
            if not isinstance(value, Mapping):
                self.add(path, f"Not takes one rule (an object) (found {_found(value)})")
                return
            self.check_rule(path, name, value, top=False, depth=depth + 1)
            return
        if not _is_list(value) or not value:
            self.add(path, f"{key} takes a non-empty list of rules (found {_found(value)})")
            return
        for i, rule in enumerate(value):
            self.check_rule(_index(path, i), name, rule, top=False, depth=depth + 1)

    def check_operand(self, path: str, op: str, value: object) -> None:
        kind = _OPERATORS[op]
        if kind == "path":
            ok = _is_jsonpath(value)
        elif kind in ("string", "timestamp"):
            ok = isinstance(value, str)
        elif kind == "numeric":
            ok = _is_number(value)
        else:
            ok = isinstance(value, bool)
        if not ok:
            self.add(path, f"{op} takes {_OPERAND_WORDS[kind]} (found {_found(value)})")


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" in the host
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# ----------------------------------------------------------------------------- public


def flow_definition_problems(definition: object) -> list[tuple[str, str]]:
    """Every problem with a Globus Flows ``definition``, as ``(json_path, message)`` pairs.

    Pure and local (no HTTP call): returns ``[]`` for a valid definition, never raises,
    and never modifies ``definition``. The order is stable; the module docstring
    describes it.
    """
    return _Checker().check(definition)


def validate_flow_definition(definition: Mapping[str, Any]) -> None:
    """Check a Globus Flows ``definition`` locally (no HTTP call).

    Raises:
        FlowValidationError: listing every problem found (``.problems``), in the order
            described in the module docstring.
    """
    problems = flow_definition_problems(definition)
    if problems:
        raise FlowValidationError(problems)
