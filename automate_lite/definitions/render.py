"""Pictures of a flow definition: Mermaid flowchart text and Graphviz DOT text.

Standard library only, and never imported by ``import automate_lite`` until used::

    from automate_lite.definitions.render import to_dot, to_mermaid

    print(to_mermaid(definition))                      # paste into a Markdown ```mermaid block
    open("flow.dot", "w").write(to_dot(definition, run_log=entries))   # dot -Tsvg flow.dot

What is drawn
    One node per state, in the document order of ``States`` (ids ``s0``, ``s1``, ...,
    labelled with the state name; the shape says the type), a ``start`` node pointing
    at ``StartAt`` and an ``end`` node that every ``"End": true`` state points at.
    Edges: ``Next``; each Choice rule, labelled with a short text of the rule (see
    :func:`rule_text`); ``Default`` (labelled ``default``); each ``Catch`` (dashed,
    labelled with its ``ErrorEquals``). A name that no state has gets a node labelled
    ``"<name> (missing)"``. Labels longer than 60 characters are cut with ``…``.

Colouring by a run
    ``run_log`` is a run's log: a list of entries ``{"code", "details": {...}}`` (or a
    page ``{"entries": [...]}``), oldest first, as ``FlowsClient.get_run_logs`` or
    ``iter_run_logs`` give it. :func:`state_outcomes` turns it into state name ->
    outcome, and each state is filled with its outcome's colour:
    ``succeeded`` (green), ``failed`` (red), ``active`` (amber: started, not finished),
    ``inactive`` (blue: waiting), ``canceled`` (grey). States that never ran stay plain.

Output is a pure function of the arguments (same input, same text, byte for byte),
and the arguments are never modified.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from ..errors import UsageError

__all__ = ["to_mermaid", "to_dot", "state_outcomes", "rule_text", "OUTCOME_COLOURS"]

#: outcome -> (fill, border) colours.
OUTCOME_COLOURS: dict[str, tuple[str, str]] = {
    "succeeded": ("#d4edda", "#2e7d32"),
    "failed": ("#f8d7da", "#c62828"),
    "active": ("#fff3cd", "#f9a825"),
    "inactive": ("#d6eaf8", "#1f618d"),
    "canceled": ("#e0e0e0", "#616161"),
}

_MAX_LABEL = 60

_SYMBOLS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
}
_TYPE_WORDS = {
    "IsPresent": ("is present", "is absent"),
    "IsNull": ("is null", "is not null"),
    "IsNumeric": ("is numeric", "is not numeric"),
    "IsString": ("is a string", "is not a string"),
    "IsBoolean": ("is a boolean", "is not a boolean"),
    "IsTimestamp": ("is a timestamp", "is not a timestamp"),
}

_MERMAID_SHAPES = {
    "Action": ('["', '"]'),
    "Pass": ('("', '")'),
    "Choice": ('{"', '"}'),
    "Wait": ('{{"', '"}}'),
    "ExpressionEval": ('[["', '"]]'),
    "Fail": ('>"', '"]'),
    "CreateWebInput": ('[/"', '"/]'),
    "AwaitWebInput": ('[/"', '"/]'),
}
_DOT_SHAPES = {
    "Action": ("box", ""),
    "Pass": ("box", "rounded"),
    "Choice": ("diamond", ""),
    "Wait": ("hexagon", ""),
    "ExpressionEval": ("box", "rounded,dashed"),
    "Fail": ("octagon", ""),
    "CreateWebInput": ("parallelogram", ""),
    "AwaitWebInput": ("parallelogram", ""),
}


# ----------------------------------------------------------------------------- run log


def _entries(run_log: Any) -> list[Mapping[str, Any]]:
    if run_log is None:
        return []
    if isinstance(run_log, Mapping):
        run_log = run_log.get("entries") or []
    if isinstance(run_log, (str, bytes)) or not isinstance(run_log, Iterable):
        raise UsageError("run_log must be a list of run log entries (or a page with 'entries')")
    return [e for e in run_log if isinstance(e, Mapping)]


def state_outcomes(run_log: Any) -> dict[str, str]:
    """Which states a run reached and how each ended, from its log.

    Entries are read oldest first; an entry is about the state named by its
    ``details.state_name`` (entries without one are skipped). Its ``code`` decides:
    ``...Started`` or ``FlowResumed`` -> ``"active"``; ``...Completed`` or
    ``...Succeeded`` -> ``"succeeded"``; ``...Failed`` (``ActionFailed``,
    ``FlowFailed``, ...) or ``...Timeout`` -> ``"failed"``; ``FlowInactive`` ->
    ``"inactive"``; ``FlowCanceled`` -> ``"canceled"``; any other code marks a state
    not seen before as ``"active"``. A later entry wins, so a state run twice shows
    how it ended the last time.
    """
    outcomes: dict[str, str] = {}
    for entry in _entries(run_log):
        details = entry.get("details")
        name = details.get("state_name") if isinstance(details, Mapping) else None
        code = entry.get("code")
        if not isinstance(name, str) or not isinstance(code, str):
            continue
        if code == "FlowInactive":
            outcomes[name] = "inactive"
        elif code == "FlowCanceled":
            outcomes[name] = "canceled"
        elif code == "FlowResumed" or code.endswith("Started"):
            outcomes[name] = "active"
        elif code.endswith(("Completed", "Succeeded")):
            outcomes[name] = "succeeded"
        elif code.endswith(("Failed", "Timeout")):
            outcomes[name] = "failed"
        else:
            outcomes.setdefault(name, "active")
    return outcomes


# ----------------------------------------------------------------------------- text


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return json.dumps(value, sort_keys=True)


def rule_text(rule: Any) -> str:
    """A short text of a Choice rule: ``$.size > 10 and $.kind == 'tar'``."""
    if not isinstance(rule, Mapping):
        return "?"
    if "And" in rule or "Or" in rule:
        word = "and" if "And" in rule else "or"
        parts = rule.get("And", rule.get("Or"))
        if not isinstance(parts, list) or not parts:
            return word + " ?"
        return f" {word} ".join(_nested(p) for p in parts)
    if "Not" in rule:
        return f"not ({rule_text(rule['Not'])})"
    variable = rule.get("Variable")
    var = variable if isinstance(variable, str) else "?"
    for key, value in rule.items():
        if key in _TYPE_WORDS:
            yes, no = _TYPE_WORDS[key]
            return f"{var} {yes if value is not False else no}"
        if key == "StringMatches":
            return f"{var} matches {_value_text(value)}"
        is_path = key.endswith("Path")
        base = key[:-4] if is_path else key
        for family in ("String", "Numeric", "Boolean", "Timestamp"):
            suffix = base[len(family):] if base.startswith(family) else None
            if suffix in _SYMBOLS:
                operand = str(value) if is_path else _value_text(value)
                return f"{var} {_SYMBOLS[suffix]} {operand}"
    return f"{var} ?"


def _nested(rule: Any) -> str:
    text = rule_text(rule)
    if isinstance(rule, Mapping) and ("And" in rule or "Or" in rule):
        return f"({text})"
    return text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


# ----------------------------------------------------------------------------- the graph


class _Graph:
    """Nodes and edges of a definition, in a fixed order."""

    def __init__(self, definition: Any) -> None:
        if not isinstance(definition, Mapping) or not isinstance(definition.get("States"), Mapping):
            raise UsageError("definition must be a flow definition: an object with StartAt and States")
        states: Mapping[Any, Any] = definition["States"]
        self.ids: dict[str, str] = {}
        self.nodes: list[tuple[str, str, str]] = []  # (id, label, type)
        self.missing: list[tuple[str, str]] = []  # (id, label) of names no state has
        for i, (name, state) in enumerate(states.items()):
            key = str(name)
            self.ids[key] = f"s{i}"
            stype = state.get("Type") if isinstance(state, Mapping) else None
            self.nodes.append((f"s{i}", key, stype if isinstance(stype, str) else ""))
        self.edges: list[tuple[str, str, str, bool]] = []  # (from, to, label, dashed)
        start = definition.get("StartAt")
        if isinstance(start, str):
            self.edges.append(("flow_start", self.target(start), "", False))
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            source = self.ids[str(name)]
            if isinstance(state.get("Next"), str):
                self.edges.append((source, self.target(state["Next"]), "", False))
            for rule in state.get("Choices") or []:
                if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                    self.edges.append((source, self.target(rule["Next"]), _short(rule_text(rule)), False))
            if isinstance(state.get("Default"), str):
                self.edges.append((source, self.target(state["Default"]), "default", False))
            for catcher in state.get("Catch") or []:
                if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
                    errors = catcher.get("ErrorEquals")
                    label = ", ".join(str(e) for e in errors) if isinstance(errors, list) else "?"
                    self.edges.append((source, self.target(catcher["Next"]), _short(label), True))
            if state.get("End") is True:
                self.edges.append((source, "flow_end", "", False))

    def target(self, name: str) -> str:
        if name not in self.ids:
            node_id = f"m{len(self.missing)}"
            self.ids[name] = node_id
            self.missing.append((node_id, f"{name} (missing)"))
        return self.ids[name]

    def outcomes(self, run_log: Any) -> list[tuple[str, str]]:
        """(node id, outcome) for every state the log mentions, in node order."""
        by_name = state_outcomes(run_log)
        return [(node_id, by_name[label]) for node_id, label, _ in self.nodes if label in by_name]


def _mermaid_text(text: str, extra: str = "") -> str:
    # Mermaid entity codes: '#' first, so the codes written after it stay codes.
    out = text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    out = out.replace("`", "#96;")
    if "|" in extra:
        out = out.replace("|", "#124;")
    return " ".join(out.split())


def to_mermaid(definition: Mapping[str, Any], run_log: Any = None, *, direction: str = "TD") -> str:
    """The flow as a Mermaid ``flowchart`` (see the module docstring for what is drawn).

    ``run_log`` (optional) colours the states a run reached; ``direction`` is ``TD``
    (top-down, default) or ``LR``, ``BT``, ``RL``.
    """
    if direction not in ("TD", "TB", "LR", "BT", "RL"):
        raise UsageError(f"direction must be TD, TB, LR, BT or RL, got {direction!r}")
    graph = _Graph(definition)
    lines = [f"flowchart {direction}", '    flow_start(("start"))']
    for node_id, label, stype in graph.nodes:
        left, right = _MERMAID_SHAPES.get(stype, ('["', '"]'))
        lines.append(f"    {node_id}{left}{_mermaid_text(_short(label))}{right}")
    for node_id, label in graph.missing:
        lines.append(f'    {node_id}["{_mermaid_text(_short(label))}"]')
    lines.append('    flow_end(("end"))')
    for source, target, label, dashed in graph.edges:
        arrow = "-.->" if dashed else "-->"
        text = f'|"{_mermaid_text(label, "|")}"|' if label else ""
        lines.append(f"    {source} {arrow}{text} {target}")
    lines.extend(_mermaid_classes(graph.outcomes(run_log)))
    return "\n".join(lines) + "\n"


def _mermaid_classes(outcomes: list[tuple[str, str]]) -> list[str]:
    lines: list[str] = []
    for outcome, (fill, border) in OUTCOME_COLOURS.items():
        members = [node_id for node_id, o in outcomes if o == outcome]
        if members:
            lines.append(f"    classDef {outcome} fill:{fill},stroke:{border},stroke-width:2px")
            lines.append(f"    class {','.join(members)} {outcome}")
    return lines


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + " ".join(escaped.split()) + '"'


def to_dot(definition: Mapping[str, Any], run_log: Any = None, *, rankdir: str = "TB") -> str:
    """The flow as a Graphviz ``digraph`` (see the module docstring for what is drawn).

    ``run_log`` (optional) colours the states a run reached; ``rankdir`` is ``TB``
    (default), ``LR``, ``BT`` or ``RL``.
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise UsageError(f"rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    graph = _Graph(definition)
    colours = dict(graph.outcomes(run_log))
    lines = [
        "digraph flow {",
        f"    rankdir={rankdir};",
        '    node [fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
        '    flow_start [label="start", shape=circle];',
    ]
    for node_id, label, stype in graph.nodes:
        shape, style = _DOT_SHAPES.get(stype, ("box", ""))
        attrs = [f"label={_dot_text(_short(label))}", f"shape={shape}"]
        outcome = colours.get(node_id)
        if outcome is not None:
            style = f"{style},filled" if style else "filled"
        if style:
            attrs.append(f'style="{style}"')
        if outcome is not None:
            fill, border = OUTCOME_COLOURS[outcome]
            attrs.append(f'fillcolor="{fill}", color="{border}"')
        lines.append(f"    {node_id} [{', '.join(attrs)}];")
    for node_id, label in graph.missing:
        lines.append(f'    {node_id} [label={_dot_text(_short(label))}, shape=box, style="dashed"];')
    lines.append('    flow_end [label="end", shape=doublecircle];')
    for source, target, label, dashed in graph.edges:
        attrs = []
        if label:
            attrs.append(f"label={_dot_text(label)}")
        if dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
