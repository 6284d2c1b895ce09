"""The table of the Globus Flows language: state types, their fields, Choice operators.

Standard library only. Validation (:mod:`.validation`), the pictures (:mod:`.render`)
and the local runner (:mod:`automate_lite.testing.runner`) all read this one table, and
the runner evaluates Choice rules with :func:`rule_matches` below, so what validates,
what is drawn and what runs cannot disagree.

Sources (facts, not text): docs.globus.org/api/flows/authoring-flows/ (actions,
choice_state, wait_state, fail_state, pass_state, roles, expressions), the Registered
API docs (``Handler``), the official examples in github.com/globus/globus-flows-examples
(web inputs) and globus-automate-client 0.18's ``flows_schema.json`` (field types).
Where they differ, the comment on the entry says which one is followed and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from . import jsonpath

__all__ = [
    "StateType",
    "STATE_TYPES",
    "STATE_TABLE",
    "TOP_LEVEL_FIELDS",
    "CATCH_FIELDS",
    "HANDLER_TYPES",
    "WEB_INPUT_PARAMETERS",
    "Operator",
    "OPERATORS",
    "COMBINATORS",
    "RULE_FIELDS",
    "OPERAND_WORDS",
    "RULES",
    "RuleError",
    "comparison_operators",
    "action_target",
    "describe_rule",
    "rule_matches",
    "parse_timestamp",
    "string_matches",
]


@dataclass(frozen=True)
class StateType:
    """What one state type may hold, besides ``Type`` and ``Comment``.

    ``fields`` lists every field the type has (``Next``/``End`` included when it
    has transitions), in the order problems are reported; ``required`` must be
    present; each group of ``exactly_one`` needs exactly one of its fields, each of
    ``at_most_one`` at most one.
    """

    name: str
    fields: tuple[str, ...]
    transitions: bool = True
    required: tuple[str, ...] = ()
    exactly_one: tuple[tuple[str, ...], ...] = ()
    at_most_one: tuple[tuple[str, ...], ...] = ()


_NEXT_END = ("Next", "End")

STATE_TABLE: dict[str, StateType] = {
    s.name: s
    for s in (
        # InputPath and Parameters together are accepted: the Actions page's own example
        # has both, and the States Language applies InputPath first, as the runner does.
        StateType(
            "Action",
            ("ActionUrl", "Handler", "InputPath", "Parameters", "ResultPath", "WaitTime",
             "ExceptionOnActionFailure", "RunAs", "ActionScope", "Catch", *_NEXT_END),
            exactly_one=(("ActionUrl", "Handler"),),
        ),
        StateType("Pass", ("InputPath", "Parameters", "Result", "ResultPath", *_NEXT_END)),
        StateType("Choice", ("Choices", "Default"), transitions=False, required=("Choices",)),
        StateType(
            "Wait",
            ("Seconds", "SecondsPath", "Timestamp", "TimestampPath", *_NEXT_END),
            exactly_one=(("Seconds", "SecondsPath", "Timestamp", "TimestampPath"),),
        ),
        # globus-automate-client 0.18's schema also required Next and ResultPath here. The
        # current docs do not say the service still does, so only Parameters is required:
        # a local pre-check must not refuse what the service may take.
        StateType("ExpressionEval", ("Parameters", "ResultPath", *_NEXT_END), required=("Parameters",)),
        # fail_state: "CausePath ... Mutually exclusive with Cause", and the same for Error.
        StateType(
            "Fail",
            ("Error", "ErrorPath", "Cause", "CausePath"),
            transitions=False,
            at_most_one=(("Error", "ErrorPath"), ("Cause", "CausePath")),
        ),
        # The web-input states as the official examples write them (there is no field
        # reference page): Parameters (or InputPath), ResultPath, Catch for
        # Flows.WebInputExpired, Next/End.
        StateType("CreateWebInput", ("InputPath", "Parameters", "ResultPath", "Catch", *_NEXT_END)),
        StateType("AwaitWebInput", ("InputPath", "Parameters", "ResultPath", "Catch", *_NEXT_END)),
    )
}

#: The state types Globus Flows accepts, in the order messages list them.
STATE_TYPES: tuple[str, ...] = tuple(STATE_TABLE)

TOP_LEVEL_FIELDS = ("Comment", "StartAt", "States")
CATCH_FIELDS = ("ErrorEquals", "Next", "ResultPath", "Comment")

#: ``Handler`` object form: its ``Type`` -> the field naming what runs it.
HANDLER_TYPES: dict[str, str] = {"ActionProvider": "Url", "RegisteredAPI": "Id"}

#: Documented CreateWebInput parameters -> the kind of literal value each takes.
WEB_INPUT_PARAMETERS: dict[str, str] = {
    "InputType": "string",
    "Context": "object",
    "Options": "options",
    "RespondentUrns": "strings",
}

#: Why a problem is a problem: rule id -> what the rule says. Every problem carries one.
RULES: dict[str, str] = {
    "definition": "a definition is an object with StartAt and States, and optionally Comment",
    "unknown-field": "only the documented fields of each object are allowed",
    "field-type": "each field holds the documented kind of value",
    "required": "required fields are present",
    "exclusive": "fields that exclude each other are not given together, and one-of groups have one",
    "state-type": "Type is one of the Globus Flows state types (there is no Succeed)",
    "transition": "every state but Choice and Fail has exactly one of Next or \"End\": true",
    "reference": "StartAt, Next and Default name states that exist",
    "jsonpath": "paths are JSONPaths the service can read",
    "result-path": "ResultPath is a writable JSONPath starting with \"$.\"",
    "dollar-key": "a key ending in \".$\" takes a JSONPath",
    "expression": "a key ending in \".=\" takes an expression that parses",
    "choice-rule": "a choice rule is And/Or/Not or a Variable with one comparison operator",
    "operand": "a comparison operator takes the documented kind of operand",
    "handler": "Handler is a handle string or an ActionProvider/RegisteredAPI object",
    "web-input": "web-input parameters have the documented shapes",
    "reachable": "every state can be reached from StartAt",
    "json": "the definition is plain JSON (no cycles, string keys)",
}


def action_target(state: Mapping[str, Any]) -> tuple[str, str] | None:
    """What an Action state calls: ``("url", url)`` for ``ActionUrl`` or an ActionProvider
    ``Handler``, ``("registered_api", id)``, ``("handle", urn)`` for a handle string, or
    None when the state names none of these (validation reports that)."""
    url = state.get("ActionUrl")
    if isinstance(url, str):
        return ("url", url)
    handler = state.get("Handler")
    if isinstance(handler, str) and handler.strip():
        return ("handle", handler)
    if isinstance(handler, Mapping):
        target = handler.get(HANDLER_TYPES.get(str(handler.get("Type")), ""))
        if isinstance(target, str):
            return ("url", target) if handler.get("Type") == "ActionProvider" else ("registered_api", target)
    return None


# ----------------------------------------------------------------------------- Choice operators


@dataclass(frozen=True)
class Operator:
    """One comparison operator: ``family`` (String, Numeric, Boolean, Timestamp, Is),
    ``relation`` (Equals, LessThan, ... or the test name), ``operand`` kind, and
    whether the operand is a path to the value to compare with."""

    name: str
    family: str
    relation: str
    operand: str  # "string" | "number" | "boolean" | "timestamp" | "path"
    symbol: str  # for pictures: "==", "<", ..., or "matches" / "is null"...


_RELATIONS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_FAMILY_OPERAND = {"String": "string", "Numeric": "number", "Boolean": "boolean", "Timestamp": "timestamp"}
_TYPE_TESTS_WORDS = {
    "IsNull": ("is null", "is not null"),
    "IsPresent": ("is present", "is absent"),
    "IsNumeric": ("is numeric", "is not numeric"),
    "IsString": ("is a string", "is not a string"),
    "IsBoolean": ("is a boolean", "is not a boolean"),
    "IsTimestamp": ("is a timestamp", "is not a timestamp"),
}


def _operators() -> dict[str, Operator]:
    ops: dict[str, Operator] = {}
    for family, operand in _FAMILY_OPERAND.items():
        relations = ("Equals",) if family == "Boolean" else tuple(_RELATIONS)
        for rel in relations:
            ops[family + rel] = Operator(family + rel, family, rel, operand, _RELATIONS[rel])
            ops[family + rel + "Path"] = Operator(family + rel + "Path", family, rel, "path", _RELATIONS[rel])
    ops["StringMatches"] = Operator("StringMatches", "String", "Matches", "string", "matches")
    for name in _TYPE_TESTS_WORDS:
        ops[name] = Operator(name, "Is", name, "boolean", _TYPE_TESTS_WORDS[name][0])
    return ops


#: Every comparison operator of the States Language that Globus Flows accepts (the same
#: list as globus-automate-client 0.18's schema): 42 of them.
OPERATORS: dict[str, Operator] = _operators()
COMBINATORS = ("And", "Or", "Not")
RULE_FIELDS = frozenset({"Variable", "Next", "Comment", *COMBINATORS, *OPERATORS})
OPERAND_WORDS = {
    "string": "a string",
    "number": "a number",
    "boolean": "true or false",
    "timestamp": 'a timestamp string such as "2030-01-01T00:00:00Z"',
    "path": 'a JSONPath string starting with "$"',
}


def comparison_operators(rule: Mapping[Any, Any]) -> list[str]:
    """The operator fields of ``rule``, in document order."""
    return [key for key in rule if isinstance(key, str) and key in OPERATORS]


# ----------------------------------------------------------------------------- values


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (no offset means UTC), else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=timezone.utc)


def string_matches(value: str, pattern: str) -> bool:
    """States Language ``StringMatches``: ``*`` matches any run of characters, ``\\*`` a star."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if c == "*" else re.escape(c))
        i += 1
    return re.fullmatch("".join(parts), value, re.DOTALL) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_IS_TYPE: dict[str, Callable[[Any], bool]] = {
    "String": lambda v: isinstance(v, str),
    "Numeric": _is_number,
    "Boolean": lambda v: isinstance(v, bool),
}
_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda v: v is None,
    "IsNumeric": _is_number,
    "IsString": lambda v: isinstance(v, str),
    "IsBoolean": lambda v: isinstance(v, bool),
    "IsTimestamp": lambda v: parse_timestamp(v) is not None,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": lambda a, b: bool(a == b),
    "LessThan": lambda a, b: bool(a < b),
    "GreaterThan": lambda a, b: bool(a > b),
    "LessThanEquals": lambda a, b: bool(a <= b),
    "GreaterThanEquals": lambda a, b: bool(a >= b),
}


# ----------------------------------------------------------------------------- evaluation


class RuleError(ValueError):
    """A Choice rule could not be evaluated; ``error`` is the States error name."""

    def __init__(self, message: str, error: str = "States.Runtime") -> None:
        super().__init__(message)
        self.error = error


_MAX_DEPTH = 64


def rule_matches(rule: Mapping[str, Any], document: Any, context: Mapping[str, Any] | None = None) -> bool:
    """Whether a Choice rule holds for ``document`` (the run context for ``$$.`` paths).

    A value of the wrong type for the operator is no match, as in the States Language;
    a ``Variable`` that names nothing raises :class:`RuleError` (guard it with
    ``IsPresent``), as does a rule without an operator.
    """
    return _matches(rule, document, context, 0)


def _matches(rule: Any, document: Any, context: Mapping[str, Any] | None, depth: int) -> bool:
    if not isinstance(rule, Mapping):
        raise RuleError(f"a choice rule must be an object, not {type(rule).__name__}")
    if depth > _MAX_DEPTH:
        raise RuleError(f"choice rules are nested more than {_MAX_DEPTH} deep")
    if "And" in rule:
        return all(_matches(r, document, context, depth + 1) for r in _rule_list(rule["And"], "And"))
    if "Or" in rule:
        return any(_matches(r, document, context, depth + 1) for r in _rule_list(rule["Or"], "Or"))
    if "Not" in rule:
        return not _matches(rule["Not"], document, context, depth + 1)
    names = comparison_operators(rule)
    if not names:
        raise RuleError(f"choice rule {_short(rule)} has no comparison operator")
    op = OPERATORS[names[0]]
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise RuleError(f"choice rule {_short(rule)} has no Variable")
    operand = rule[op.name]
    if op.name == "IsPresent":
        try:
            return jsonpath.exists(document, variable, context) == bool(operand)
        except jsonpath.JSONPathError as exc:
            raise RuleError(f"choice rule Variable: {exc}") from None
    # A Variable that names nothing: the Globus Flows docs do not say what happens (the
    # Choice States page, docs.globus.org/api/flows/authoring-flows/choice_state, only
    # says that no matching rule and no Default ends the run with an error); their
    # Introduction says data is handled as in the Amazon States Language, whose spec
    # (states-language.net, "Choice Rules") makes IsPresent the one test that does not
    # raise when its Variable matches nothing. So every other rule raises here, with the
    # States Language's name for it, States.Runtime (not catchable: Choice has no Catch).
    value = _read(document, variable, context, "Variable", " (guard the rule with IsPresent)")
    if op.family == "Is":
        return _TESTS[op.relation](value) == bool(operand)
    if op.operand == "path":
        operand = _read(document, operand, context, op.name, "")
    if op.relation == "Matches":
        return isinstance(value, str) and isinstance(operand, str) and string_matches(value, operand)
    if op.family == "Timestamp":
        a, b = parse_timestamp(value), parse_timestamp(operand)
        return a is not None and b is not None and _COMPARE[op.relation](a, b)
    ok = _IS_TYPE[op.family]
    return ok(value) and ok(operand) and _COMPARE[op.relation](value, operand)


def _rule_list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise RuleError(f"{key} takes a list of rules, not {type(value).__name__}")
    return value


def _read(document: Any, path: Any, context: Mapping[str, Any] | None, what: str, hint: str) -> Any:
    try:
        return jsonpath.get(document, path, context)
    except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
        raise RuleError(f"choice rule {what}: {exc}{hint}") from None


def _short(rule: Mapping[Any, Any]) -> str:
    text = repr(dict(rule))
    return text if len(text) <= 120 else text[:117] + "..."


# ----------------------------------------------------------------------------- text


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, (int, float)) else "?"


def describe_rule(rule: Any, _depth: int = 0) -> str:
    """A short readable text of a Choice rule: ``$.size > 10 and $.kind == 'tar'``."""
    if not isinstance(rule, Mapping):
        return "?"
    if _depth > _MAX_DEPTH:
        return "…"
    for word in ("And", "Or"):
        if word in rule:
            parts = rule[word]
            if not isinstance(parts, list) or not parts:
                return word.lower() + " ?"
            inner = [describe_rule(p, _depth + 1) for p in parts]
            nested = [f"({t})" if isinstance(p, Mapping) and ("And" in p or "Or" in p) else t for p, t in zip(parts, inner)]
            return f" {word.lower()} ".join(nested)
    if "Not" in rule:
        return f"not ({describe_rule(rule['Not'], _depth + 1)})"
    variable = rule.get("Variable")
    var = variable if isinstance(variable, str) else "?"
    names = comparison_operators(rule)
    if not names:
        return f"{var} ?"
    op = OPERATORS[names[0]]
    operand = rule[op.name]
    if op.family == "Is":
        yes, no = _TYPE_TESTS_WORDS[op.name]
        return f"{var} {yes if operand is not False else no}"
    shown = str(operand) if op.operand == "path" else _value_text(operand)
    return f"{var} {op.symbol} {shown}"
