"""Local checks of a Globus Flows definition, before it is sent anywhere.

Standard library only, so it stays cheap to import; the clients import it lazily.
What a state may hold comes from the one table in :mod:`.rules`; paths are read with
:mod:`.jsonpath` and every ``.=`` expression is parsed with :mod:`.expressions`, the
same readers the local runner executes with. Two entry points:

* :func:`flow_definition_problems` returns every problem as :class:`Problem` values
  (``(json_path, message)`` tuples that also carry ``.rule``, the id of the rule broken
  (see :data:`.rules.RULES`), and ``.loc``, the path as a tuple of keys), and never
  raises, whatever it is given;
* :func:`validate_flow_definition` raises :class:`~automate_lite.errors.FlowValidationError`
  carrying that list when it is not empty.

Neither modifies its argument.

What is checked
---------------
* Top level: an object with ``StartAt`` (naming a state), ``States`` (a non-empty
  object) and an optional ``Comment``; nothing else.
* Every state: its ``Type`` is in the table (``Succeed`` gets its own message: Globus
  Flows has none); it holds only the table's fields for that type (``OutputPath`` and
  ``RunAs`` off an Action get their own messages); ``Comment`` is a string or null
  (gladier writes ``null`` and the service takes it); required fields, exactly-one and
  at-most-one groups; transitions: exactly one of ``Next`` or ``"End": true``, none on
  Choice and Fail.
* Field values: ``ActionUrl`` an http(s) URL; ``Handler`` a handle string or
  ``{"Type": "ActionProvider", "Url": ...}`` / ``{"Type": "RegisteredAPI", "Id": ...}``;
  ``WaitTime`` a positive integer; ``ExceptionOnActionFailure`` a boolean; ``RunAs`` and
  ``ActionScope`` strings; ``Seconds`` a number >= 0; ``Timestamp`` an RFC 3339 string;
  ``Error``/``Cause`` strings; every ``*Path`` field and ``Variable`` a JSONPath the
  reader accepts; ``ResultPath`` a JSONPath starting with ``$.`` that writes to one
  place outside ``$._context``; ``Catch`` catchers (``ErrorEquals``, ``Next``,
  ``ResultPath``, ``Comment``); Choice rules (``And``/``Or`` lists, ``Not`` one rule,
  only top-level rules have ``Next``; a comparison is ``Variable`` plus exactly one
  operator of the table, its operand of the table's kind).
* ``Parameters`` at any depth: ``.$`` keys take a JSONPath, ``.=`` keys an expression
  that parses; ``__Private_Parameters`` is a list of strings. CreateWebInput's
  documented parameters (``InputType``, ``Context``, ``Options``, ``RespondentUrns``)
  have their shapes when given literally; AwaitWebInput names its ``web_input_id``.
* Every state is reachable from ``StartAt`` through ``Next``, ``Choices[].Next``,
  ``Default`` and ``Catch[].Next``.

Order of the problems
---------------------
A pure function of the input: the top level (unknown fields in document order,
``Comment``, ``StartAt``, ``States``); then each state in document order: ``Type``
(nothing more for an unknown type), unknown fields in document order, ``Comment``,
required fields and groups, ``Next``/``End``, then its fields in the table's order
(``Parameters`` depth-first in document order, ``Catch`` and ``Choices`` in list
order); last, unreachable states in document order (only when ``StartAt`` is sound).

Paths use dot notation (``$.States.Transfer.Next``), with brackets for list indexes
and for names that are not identifiers (``$.States['Copy files'].Parameters['src.$']``).
This module is longer than 500 lines because each field's check sits next to its
message; splitting it would scatter one rule over two files.
"""

from __future__ import annotations

import json
import math
from typing import Any, Mapping, TypeGuard
from urllib.parse import urlsplit

from ..errors import FlowValidationError
from . import expressions, jsonpath
from .rules import (
    CATCH_FIELDS,
    COMBINATORS,
    HANDLER_TYPES,
    OPERAND_WORDS,
    OPERATORS,
    RULE_FIELDS,
    STATE_TABLE,
    STATE_TYPES,
    TOP_LEVEL_FIELDS,
    WEB_INPUT_PARAMETERS,
    comparison_operators,
    parse_timestamp,
)

#: How deep a value inside ``Parameters`` may nest before it is reported.
MAX_NESTING = 512

__all__ = ["validate_flow_definition", "flow_definition_problems", "Problem", "STATE_TYPES"]

Loc = tuple[Any, ...]
# Deeper And/Or/Not nesting than this is reported rather than followed; it bounds
# recursion for any input (including a Python object that contains itself).
_MAX_RULE_DEPTH = 32
_PATH_HINT = 'a JSONPath string starting with "$" (such as "$.input.value")'


class Problem(tuple[str, str]):
    """One problem: ``(path, message)``, with ``.rule`` (a :data:`.rules.RULES` id) and
    ``.loc`` (the path as keys and indexes, for APIs that report locations as lists)."""

    rule: str
    loc: Loc

    def __new__(cls, path: str, message: str, rule: str, loc: Loc) -> "Problem":
        self = super().__new__(cls, (path, message))
        self.rule = rule
        self.loc = loc
        return self

    @property
    def path(self) -> str:
        """The JSON path of the offending value."""
        return self[0]

    @property
    def message(self) -> str:
        """What is wrong and what to do."""
        return self[1]

    def __reduce__(self) -> tuple[Any, ...]:
        return (Problem, (self[0], self[1], self.rule, self.loc))


# ----------------------------------------------------------------------------- text helpers


def _format(loc: Loc) -> str:
    out = ["$"]
    for key in loc:
        if isinstance(key, str):
            if key.isidentifier():
                out.append("." + key)
            else:
                out.append("['%s']" % key.replace("\\", "\\\\").replace("'", "\\'"))
        else:
            out.append(f"[{_repr(key)}]")
    return "".join(out)


def _repr(value: object) -> str:
    if isinstance(value, int) and value.bit_length() > 64:
        return "<a large number>"  # repr of a huge int can raise (int digit limit)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _quote(value: object) -> str:
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 80 else text[:76] + '..."'
    return _repr(value)


def _found(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int) and value.bit_length() > 64:
        return "a large number"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else "a number"
    if isinstance(value, Mapping):
        return "an object" if value else "an empty object"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    return f"a {type(value).__name__}"


def _names(names: list[str] | tuple[str, ...]) -> str:
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


def _suggest(word: object, candidates: list[str] | tuple[str, ...]) -> str:
    """``; did you mean "X"?`` for a likely typo, else ``""``."""
    if not isinstance(word, str) or len(word) > 100:  # not a typo, and difflib is quadratic
        return ""
    import difflib  # only needed when something is misspelt

    close = difflib.get_close_matches(word, list(candidates), n=2, cutoff=0.75)
    return "; did you mean " + " or ".join(_quote(c) for c in close) + "?" if close else ""


def _jsonpath_problem(value: object) -> str | None:
    """Why ``value`` is not a JSONPath the reader accepts, or None."""
    if not isinstance(value, str):
        return f"found {_found(value)}"
    try:
        jsonpath.parse(value)
    except jsonpath.JSONPathError as exc:
        return str(exc)
    except RecursionError:
        return "it is nested too deeply to read"
    return None


def _is_http_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed "[" in the host
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# ----------------------------------------------------------------------------- checker


class _Checker:
    """Collects problems for one definition; see the module docstring for the order."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.state_names: list[str] = []
        self.state_set: frozenset[str] = frozenset()
        self.edges: dict[str, list[str]] = {}

    def add(self, loc: Loc, rule: str, message: str) -> None:
        self.problems.append(Problem(_format(loc), message, rule, loc))

    def string(self, loc: Loc, obj: Mapping[Any, Any], key: str, *, null_ok: bool = False) -> None:
        if key in obj and not isinstance(obj[key], str) and not (null_ok and obj[key] is None):
            self.add((*loc, key), "field-type", f"{key} must be a string (found {_found(obj[key])})")

    def edge(self, source: object, target: object) -> None:
        if isinstance(source, str) and isinstance(target, str) and target in self.state_set:
            self.edges.setdefault(source, []).append(target)

    # -- top level -------------------------------------------------------------------

    def check(self, definition: object) -> list[Problem]:
        if not isinstance(definition, Mapping):
            self.add((), "definition", "a flow definition must be a JSON object with StartAt and States "
                     f"(found {_found(definition)})")
            return self.problems
        for key in definition:
            if key not in TOP_LEVEL_FIELDS:
                self.add((key,), "unknown-field", f"unknown top-level field {_quote(key)}; a flow definition "
                         "has only Comment, StartAt and States" + _suggest(key, TOP_LEVEL_FIELDS))
        self.string((), definition, "Comment", null_ok=True)

        states = definition.get("States")
        states_ok = isinstance(states, Mapping) and len(states) > 0
        if isinstance(states, Mapping):
            self.state_names = [name for name in states if isinstance(name, str)]
            self.state_set = frozenset(self.state_names)
        start_ok = False
        if "StartAt" not in definition:
            self.add(("StartAt",), "required", "StartAt is missing; it must name the state the flow starts with")
        elif not isinstance(definition["StartAt"], str):
            self.add(("StartAt",), "field-type", "StartAt must be a string naming the first state "
                     f"(found {_found(definition['StartAt'])})")
        elif states_ok:
            start_ok = self.reference(("StartAt",), "StartAt", definition["StartAt"])
        if "States" not in definition:
            self.add(("States",), "required", "States is missing; it must be an object of state name -> state")
        elif not isinstance(states, Mapping):
            self.add(("States",), "field-type", f"States must be an object of state name -> state (found {_found(states)})")
        elif not states:
            self.add(("States",), "definition", "States is empty; a flow needs at least one state")
        if isinstance(states, Mapping):
            for name, state in states.items():
                self.state(("States", name), name, state)
            if start_ok:
                self.reachable(definition["StartAt"], states)
        return self.problems

    def reference(self, loc: Loc, field: str, target: object) -> bool:
        if not isinstance(target, str):
            self.add(loc, "field-type", f"{field} must be a string naming a state (found {_found(target)})")
            return False
        if target in self.state_set:
            return True
        hint = _suggest(target, self.state_names)
        if not hint and 0 < len(self.state_names) <= 8:
            hint = "; the states are " + _names([_quote(n) for n in self.state_names])
        self.add(loc, "reference", f"{field} names a state {_quote(target)} that does not exist{hint}")
        return False

    def reachable(self, start: str, states: Mapping[Any, Any]) -> None:
        seen, todo = {start}, [start]
        while todo:
            for nxt in self.edges.get(todo.pop(), []):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        for name in states:
            if isinstance(name, str) and name not in seen:
                self.add(("States", name), "reachable", f"state {_quote(name)} can never run: no Next, Choices, "
                         f"Default or Catch leads to it from StartAt ({_quote(start)}); link to it or remove it")

    # -- one state -------------------------------------------------------------------

    def state(self, loc: Loc, name: object, state: object) -> None:
        if not isinstance(name, str):
            self.add(loc, "json", f"state names must be strings (found {_found(name)})")
        if not isinstance(state, Mapping):
            self.add(loc, "field-type", f"a state must be an object with a Type (found {_found(state)})")
            return
        stype = state.get("Type")
        valid = "one of " + ", ".join(STATE_TYPES)
        if "Type" not in state:
            self.add((*loc, "Type"), "required", f"Type is missing; it must be {valid}")
        elif stype == "Succeed":
            self.add((*loc, "Type"), "state-type", 'Globus Flows has no Succeed state; use a Pass state with "End": true')
        elif not isinstance(stype, str) or stype not in STATE_TABLE:
            self.add((*loc, "Type"), "state-type", f"Type must be {valid} (found {_found(stype)}){_suggest(stype, STATE_TYPES)}")
        if not isinstance(stype, str) or stype not in STATE_TABLE:
            # The rest cannot be judged; still follow its transitions, so that its
            # successors are not also called unreachable.
            self.edge(name, state.get("Next"))
            self.edge(name, state.get("Default"))
            for key in ("Choices", "Catch"):
                items = state.get(key)
                for item in items if _is_list(items) else ():
                    if isinstance(item, Mapping):
                        self.edge(name, item.get("Next"))
            return

        spec = STATE_TABLE[stype]
        allowed = ("Type", "Comment", *spec.fields)
        for key in state:
            if key in allowed or key in ("Next", "End"):
                continue  # Next/End on Choice/Fail get their own message
            where = (*loc, key)
            if key == "OutputPath":
                self.add(where, "unknown-field", "Globus Flows does not support OutputPath; use ResultPath to say "
                         "where the result goes")
            elif key == "RunAs":
                self.add(where, "unknown-field", "RunAs is a field of Action states only")
            else:
                self.add(where, "unknown-field", f"{_article(stype)} state has no field {_quote(key)}; its fields are "
                         f"{_names(list(allowed))}{_suggest(key, allowed)}")
        self.string(loc, state, "Comment", null_ok=True)
        for key in spec.required:
            if key not in state:
                self.add((*loc, key), "required", f"{_article(stype)} state needs {key}")
        for group in spec.exactly_one:
            present = [k for k in group if k in state]
            if len(present) != 1:
                self.add(loc, "exclusive", f"{_article(stype)} state needs exactly one of {', '.join(group)} "
                         f"(found {_names(present) if present else 'none'})")
        for group in spec.at_most_one:
            present = [k for k in group if k in state]
            if len(present) > 1:
                self.add(loc, "exclusive", f"{_names(present)} exclude each other; give one")
        self.transition(loc, name, stype, spec.transitions, state)
        for key in spec.fields:
            if key in state and key not in ("Next", "End"):
                self.field(loc, name, stype, key, state[key])

    def transition(self, loc: Loc, name: object, stype: str, has: bool, state: Mapping[Any, Any]) -> None:
        end = state.get("End")
        if not has:
            why = ("a Choice state picks the next state through Choices and Default" if stype == "Choice"
                   else "a Fail state ends the run")
            for key in ("Next", "End"):
                if key in state:
                    self.add((*loc, key), "transition", f"{why}; remove {key}")
            return
        if "End" in state and not isinstance(end, bool):
            self.add((*loc, "End"), "field-type", f"End must be true or false (found {_found(end)})")
        elif "Next" in state and end is True:
            self.add(loc, "transition", f'{_article(stype)} state needs exactly one of Next or "End": true '
                     "(found both); remove one")
        elif "Next" not in state and end is not True:
            found = '"End": false' if end is False else "neither"
            self.add(loc, "transition", f"{_article(stype)} state needs exactly one of Next (the state to run after "
                     f'it) or "End": true (found {found})')
        if "Next" in state and self.reference((*loc, "Next"), "Next", state["Next"]):
            self.edge(name, state["Next"])

    # -- fields ----------------------------------------------------------------------

    def field(self, loc: Loc, name: object, stype: str, key: str, value: Any) -> None:
        where = (*loc, key)
        if key == "ActionUrl":
            if not _is_http_url(value):
                self.add(where, "field-type", 'ActionUrl must be an http:// or https:// URL such as '
                         f'"https://actions.globus.org/hello_world" (found {_found(value)})')
        elif key == "Handler":
            self.handler(where, value)
        elif key == "Parameters":
            self.parameters(where, value)
            if stype in ("CreateWebInput", "AwaitWebInput") and isinstance(value, Mapping):
                self.web_input(where, stype, value)
        elif key in ("InputPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath"):
            self.jsonpath(where, key, value)
        elif key == "ResultPath":
            self.result_path(where, value)
        elif key == "Catch":
            self.catch(where, name, value)
        elif key == "WaitTime":
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                self.add(where, "field-type", f"WaitTime must be a positive whole number of seconds (found {_found(value)})")
        elif key == "ExceptionOnActionFailure":
            if not isinstance(value, bool):
                self.add(where, "field-type", f"ExceptionOnActionFailure must be true or false (found {_found(value)})")
        elif key in ("RunAs", "ActionScope", "Error", "Cause"):
            if not isinstance(value, str):
                self.add(where, "field-type", f"{key} must be a string (found {_found(value)})")
        elif key == "Seconds":
            if not _is_number(value) or value < 0:
                self.add(where, "field-type", f"Seconds must be a number of seconds, 0 or more (found {_found(value)})")
        elif key == "Timestamp":
            if parse_timestamp(value) is None:
                self.add(where, "field-type", 'Timestamp must be a timestamp string such as "2030-01-01T00:00:00Z" '
                         f"(found {_found(value)})")
        elif key == "Choices":
            if not _is_list(value) or not value:
                self.add(where, "field-type", f"Choices must be a non-empty list of rules (found {_found(value)})")
            else:
                for i, rule in enumerate(value):
                    self.rule((*where, i), name, rule, top=True, depth=0)
        elif key == "Default":
            if self.reference(where, "Default", value):
                self.edge(name, value)
        # "Result" takes any value.

    def handler(self, loc: Loc, value: Any) -> None:
        if isinstance(value, str):
            if not value.strip():
                self.add(loc, "handler", "Handler must not be empty; give a handle such as "
                         '"urn:globus:flows:handle:..." or a Handler object')
            return
        if not isinstance(value, Mapping):
            self.add(loc, "handler", 'Handler must be a handle string or an object such as {"Type": "ActionProvider", '
                     f'"Url": "https://..."}} or {{"Type": "RegisteredAPI", "Id": "..."}} (found {_found(value)})')
            return
        htype = value.get("Type")
        if not isinstance(htype, str) or htype not in HANDLER_TYPES:
            self.add((*loc, "Type"), "handler", f"Handler Type must be ActionProvider or RegisteredAPI "
                     f"(found {_found(htype)}){_suggest(htype, tuple(HANDLER_TYPES))}")
            return
        own = HANDLER_TYPES[htype]
        for key in value:
            if key not in ("Type", own):
                self.add((*loc, key), "unknown-field", f"a {htype} Handler has only Type and {own} (found {_quote(key)})")
        target = value.get(own)
        if own not in value:
            self.add((*loc, own), "required", f"a {htype} Handler needs {own}")
        elif own == "Url" and not _is_http_url(target):
            self.add((*loc, own), "handler", f"Handler Url must be an http:// or https:// URL (found {_found(target)})")
        elif own == "Id" and (not isinstance(target, str) or not target.strip()):
            self.add((*loc, own), "handler", f"Handler Id must be the registered API's id (found {_found(target)})")

    def jsonpath(self, loc: Loc, field: str, value: object) -> None:
        why = _jsonpath_problem(value)
        if why is not None:
            self.add(loc, "jsonpath", f"{field} must be {_PATH_HINT} ({why})")

    def result_path(self, loc: Loc, value: object) -> None:
        # "$" (replace the whole document) is refused: the Flows docs always write
        # "$.name", and globus-automate-client 0.18's schema required the "$." prefix.
        if not isinstance(value, str) or not value.startswith("$.") or len(value) < 3:
            self.add(loc, "result-path", 'ResultPath must be a JSONPath string starting with "$." (such as '
                     f'"$.result"), saying where the result goes (found {_found(value)})')
        elif value == "$._context" or value.startswith(("$._context.", "$._context[")):
            self.add(loc, "result-path", "ResultPath cannot write to $._context, which is read-only")
        else:
            why = _jsonpath_problem(value)
            if why is None and "*" in value and any(s is jsonpath.WILDCARD for s in jsonpath.parse(value)):
                why = "a wildcard gives a result no single place to go"
            if why is not None:
                self.add(loc, "result-path", f"ResultPath must be a JSONPath naming one place ({why})")

    def parameters(self, loc: Loc, params: object) -> None:
        if not isinstance(params, Mapping):
            self.add(loc, "field-type", f"Parameters must be an object (found {_found(params)})")
            return
        # Iterative depth-first walk in document order: any depth of nesting is fine,
        # and a Python object that contains itself is reported instead of looping.
        todo: list[tuple[Loc, object, bool]] = [(loc, params, False)]
        open_ids: set[int] = set()
        while todo:
            where, node, leaving = todo.pop()
            if leaving:
                open_ids.discard(id(node))
                continue
            if id(node) in open_ids:
                self.add(where, "json", "this value contains itself, which JSON cannot express")
                continue
            if len(where) - len(loc) > MAX_NESTING:
                # Deeper than any flow needs; walking on would cost time in the square
                # of the depth (each location is a tuple of its whole path).
                self.add(where, "json", f"Parameters are nested more than {MAX_NESTING} levels deep here; "
                         "flatten the value or pass it in the run's input")
                continue
            children: list[tuple[Loc, object, bool]] = []
            items = node.items() if isinstance(node, Mapping) else enumerate(node) if _is_list(node) else ()
            for key, value in items:
                child = (*where, key)
                if isinstance(node, Mapping) and isinstance(key, str) and key.endswith(".$"):
                    why = _jsonpath_problem(value)
                    if why is not None:
                        self.add(child, "dollar-key", f'a key ending in ".$" takes {_PATH_HINT} ({why})')
                elif isinstance(node, Mapping) and isinstance(key, str) and key.endswith(".="):
                    self.expression(child, value)
                elif key == "__Private_Parameters" and isinstance(node, Mapping):
                    if not _is_list(value) or not all(isinstance(v, str) for v in value):
                        self.add(child, "field-type", "__Private_Parameters must be a list of field names (strings) "
                                 f"to hide (found {_found(value)})")
                elif isinstance(value, Mapping) or _is_list(value):
                    children.append((child, value, False))
            if children:
                open_ids.add(id(node))
                todo.append((where, node, True))
                todo.extend(reversed(children))

    def expression(self, loc: Loc, value: object) -> None:
        if not isinstance(value, str) or not value.strip():
            self.add(loc, "expression", f'a key ending in ".=" takes a non-empty expression string (found {_found(value)})')
            return
        try:
            expressions.parse(value)
        except expressions.ExpressionError as exc:
            self.add(loc, "expression", f"the expression {_quote(value)} does not parse: {exc}")
        except RecursionError:
            self.add(loc, "expression", f"the expression {_quote(value)} is nested too deeply to read")

    def web_input(self, loc: Loc, stype: str, params: Mapping[Any, Any]) -> None:
        if stype == "AwaitWebInput":
            if not any(k in params for k in ("web_input_id", "web_input_id.$", "web_input_id.=")):
                self.add((*loc, "web_input_id"), "web-input", "AwaitWebInput needs the web_input_id to wait for, "
                         'such as "web_input_id.$": "$.web_input_info.web_input_id"')
            elif "web_input_id" in params and not isinstance(params["web_input_id"], str):
                self.add((*loc, "web_input_id"), "web-input", f"web_input_id must be a string (found {_found(params['web_input_id'])})")
            return
        for key, kind in WEB_INPUT_PARAMETERS.items():
            if key not in params:
                continue
            value, where = params[key], (*loc, key)
            if kind == "string" and not isinstance(value, str):
                self.add(where, "web-input", f"{key} must be a string such as \"Selection\" (found {_found(value)})")
            elif kind == "object" and not isinstance(value, Mapping):
                self.add(where, "web-input", f"{key} must be an object (found {_found(value)})")
            elif kind == "strings" and (not _is_list(value) or not all(isinstance(v, str) for v in value)):
                self.add(where, "web-input", f"{key} must be a list of principal URNs (found {_found(value)})")
            elif kind == "options":
                if not _is_list(value):
                    self.add(where, "web-input", f"Options must be a list of {{Value, Label, Description}} (found {_found(value)})")
                    continue
                for i, option in enumerate(value):
                    if not isinstance(option, Mapping) or not any(k in option for k in ("Value", "Value.$", "Value.=")):
                        self.add((*where, i), "web-input", "each option needs a Value (and a Label to show)")

    def catch(self, loc: Loc, name: object, catch: object) -> None:
        if not _is_list(catch):
            self.add(loc, "field-type", f"Catch must be a list of catchers (found {_found(catch)})")
            return
        for i, catcher in enumerate(catch):
            where = (*loc, i)
            if not isinstance(catcher, Mapping):
                self.add(where, "field-type", f"a catcher must be an object with ErrorEquals and Next (found {_found(catcher)})")
                continue
            for key in catcher:
                if key not in CATCH_FIELDS:
                    self.add((*where, key), "unknown-field", f"a catcher has no field {_quote(key)}; its fields are "
                             f"{_names(CATCH_FIELDS)}{_suggest(key, CATCH_FIELDS)}")
            self.string(where, catcher, "Comment", null_ok=True)
            errors = catcher.get("ErrorEquals")
            if "ErrorEquals" not in catcher:
                self.add((*where, "ErrorEquals"), "required", 'a catcher needs ErrorEquals, a list of error names such as ["States.ALL"]')
            elif not _is_list(errors) or not errors or not all(isinstance(e, str) for e in errors):
                self.add((*where, "ErrorEquals"), "field-type", "ErrorEquals must be a non-empty list of error names "
                         f"(strings) (found {_found(errors)})")
            if "Next" not in catcher:
                self.add((*where, "Next"), "required", "a catcher needs Next, the state to run when it catches an error")
            elif self.reference((*where, "Next"), "Next", catcher["Next"]):
                self.edge(name, catcher["Next"])
            if "ResultPath" in catcher:
                self.result_path((*where, "ResultPath"), catcher["ResultPath"])

    # -- Choice rules ----------------------------------------------------------------

    def rule(self, loc: Loc, name: object, rule: object, *, top: bool, depth: int) -> None:
        if not isinstance(rule, Mapping):
            self.add(loc, "choice-rule", f"a choice rule must be an object (found {_found(rule)})")
            return
        if depth > _MAX_RULE_DEPTH:
            self.add(loc, "choice-rule", f"choice rules are nested more than {_MAX_RULE_DEPTH} deep; simplify them")
            return
        for key in rule:
            if key not in RULE_FIELDS:
                self.add((*loc, key), "unknown-field", f"a choice rule has no field {_quote(key)}; a rule is And, Or "
                         "or Not, or Variable with one comparison operator such as StringEquals, NumericGreaterThan, "
                         f"BooleanEquals or IsPresent{_suggest(key, sorted(RULE_FIELDS))}")
        self.string(loc, rule, "Comment", null_ok=True)
        if top:
            if "Next" not in rule:
                self.add((*loc, "Next"), "required", "each rule in Choices needs Next, the state to run when it matches")
            elif self.reference((*loc, "Next"), "Next", rule["Next"]):
                self.edge(name, rule["Next"])
        elif "Next" in rule:
            self.add((*loc, "Next"), "choice-rule", "only the rules directly in Choices have Next; remove it from "
                     "this rule inside And, Or or Not")
        combinators = [key for key in COMBINATORS if key in rule]
        operators = comparison_operators(rule)
        if combinators:
            if "Variable" in rule or operators:
                self.add(loc, "choice-rule", "a choice rule is either a combinator (And, Or, Not) or a comparison "
                         "(Variable and an operator), not both")
            if len(combinators) > 1:
                self.add(loc, "choice-rule", f"a choice rule has only one of And, Or, Not (found {_names(combinators)})")
            for key in combinators:
                value, where = rule[key], (*loc, key)
                if key == "Not":
                    if isinstance(value, Mapping):
                        self.rule(where, name, value, top=False, depth=depth + 1)
                    else:
                        self.add(where, "choice-rule", f"Not takes one rule (an object) (found {_found(value)})")
                elif not _is_list(value) or not value:
                    self.add(where, "choice-rule", f"{key} takes a non-empty list of rules (found {_found(value)})")
                else:
                    for i, inner in enumerate(value):
                        self.rule((*where, i), name, inner, top=False, depth=depth + 1)
            return
        if "Variable" not in rule:
            self.add((*loc, "Variable"), "choice-rule", "a comparison rule needs Variable, the JSONPath of the value "
                     'to compare (such as "$.input.size")')
        else:
            self.jsonpath((*loc, "Variable"), "Variable", rule["Variable"])
        if len(operators) != 1:
            self.add(loc, "choice-rule", "a comparison rule needs exactly one comparison operator such as "
                     "StringEquals, NumericGreaterThan, BooleanEquals or IsPresent "
                     f"(found {_names(operators) if operators else 'none'})")
        for op in operators:
            self.operand((*loc, op), op, rule[op])

    def operand(self, loc: Loc, op: str, value: object) -> None:
        kind = OPERATORS[op].operand
        if kind == "path":
            ok = _jsonpath_problem(value) is None
        elif kind == "string":
            ok = isinstance(value, str)
        elif kind == "timestamp":
            ok = parse_timestamp(value) is not None
        elif kind == "number":
            ok = _is_number(value)
        else:
            ok = isinstance(value, bool)
        if not ok:
            self.add(loc, "operand", f"{op} takes {OPERAND_WORDS[kind]} (found {_found(value)})")


# ----------------------------------------------------------------------------- public


def flow_definition_problems(definition: object) -> list[Problem]:
    """Every problem with a Globus Flows ``definition``, as :class:`Problem` values.

    Pure and local (no HTTP call): returns ``[]`` for a valid definition, never raises,
    and never modifies ``definition``. The order is stable; the module docstring
    describes it. Each problem unpacks as ``(json_path, message)``.
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
