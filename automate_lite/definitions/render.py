"""Pictures of a flow definition: Mermaid and Graphviz DOT text, SVG/PNG through Graphviz.

Standard library only, and never imported by ``import automate_lite`` until used::

    from automate_lite.definitions.render import render, to_dot, to_mermaid

    print(to_mermaid(definition))                       # paste into a Markdown ```mermaid block
    svg = render(definition, "svg", run_log=entries)     # needs Graphviz's dot program

What is drawn
    One node per state, in the document order of ``States`` (ids ``s0``, ``s1``, ...,
    labelled with the state name; the shape says the type), a ``start`` node pointing
    at ``StartAt`` and an ``end`` node that every ``"End": true`` state points at.
    Edges: ``Next``; each Choice rule, labelled with a readable text of the rule
    (:func:`rule_text`, from the rule table in :mod:`.rules`); ``Default`` (labelled
    ``default``); each ``Catch``, red and dashed, labelled ``catch: <ErrorEquals>``. A
    name that no state has gets a node labelled ``"<name> (missing)"``. Labels longer
    than 60 characters are cut with ``…``. A legend (``legend=False`` leaves it out)
    explains the edge styles and colours that appear.

A run drawn on the flow
    ``run_log`` is a run's log: a list of entries ``{"code", "details": {...}}`` (or a
    page ``{"entries": [...]}``), oldest first, as ``FlowsClient.get_run_logs`` or
    ``iter_run_logs`` give it. Each state is filled with its outcome's colour
    (:func:`state_outcomes`): ``succeeded`` green, ``failed`` red, ``active`` amber,
    ``inactive`` blue, ``canceled`` grey; the transitions the run took
    (:func:`run_path`) are drawn thick and blue, a Catch that was followed included.

Output is a pure function of the arguments (same input, same text, byte for byte),
and the arguments are never modified.
"""

from __future__ import annotations

from typing import Any, Iterable, Literal, Mapping, overload

from ..errors import UsageError
from .rules import describe_rule

__all__ = [
    "to_mermaid", "to_dot", "to_svg", "to_png", "render", "state_outcomes", "run_path", "rule_text",
    "OUTCOME_COLOURS",
]

#: outcome -> (fill, border) colours.
OUTCOME_COLOURS: dict[str, tuple[str, str]] = {
    "succeeded": ("#d4edda", "#2e7d32"),
    "failed": ("#f8d7da", "#c62828"),
    "active": ("#fff3cd", "#f9a825"),
    "inactive": ("#d6eaf8", "#1f618d"),
    "canceled": ("#e0e0e0", "#616161"),
}
_CATCH_COLOUR = "#c62828"
_PATH_COLOUR = "#1565c0"
_MAX_LABEL = 60

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


def _about(entry: Mapping[str, Any]) -> tuple[str | None, str | None]:
    details = entry.get("details")
    name = details.get("state_name") if isinstance(details, Mapping) else None
    code = entry.get("code")
    return (name if isinstance(name, str) else None), (code if isinstance(code, str) else None)


def state_outcomes(run_log: Any) -> dict[str, str]:
    """Which states a run reached and how each ended, from its log.

    Entries are read oldest first; an entry is about the state named by its
    ``details.state_name`` (entries without one are skipped). Its ``code`` decides:
    ``...Started`` or ``FlowResumed`` -> ``"active"``; ``...Completed`` or
    ``...Succeeded`` -> ``"succeeded"``; ``...Failed`` or ``...Timeout`` ->
    ``"failed"``; ``FlowInactive`` -> ``"inactive"``; ``FlowCanceled`` ->
    ``"canceled"``; any other code marks a state not seen before as ``"active"``. A
    later entry wins, so a state run twice shows how it ended the last time.
    """
    outcomes: dict[str, str] = {}
    for entry in _entries(run_log):
        name, code = _about(entry)
        if name is None or code is None:
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


def run_path(run_log: Any) -> list[tuple[str, str, bool]]:
    """The transitions a run took, in order: ``(from, to, after_a_failure)``.

    A state is entered when an entry (``FlowFailed`` and ``FlowInactive`` included)
    names a state other than the one running, or
    names the same state with a ``...Started`` code after it finished (a loop onto
    itself). ``after_a_failure`` is true when the state left had a ``...Failed`` or
    ``...Timeout`` entry, that is when a Catch was followed. The first state is
    reached from ``"start"``; a log that ends ``FlowSucceeded`` goes on to ``"end"``.
    """
    path: list[tuple[str, str, bool]] = []
    current, failed, finished = "start", False, False
    for entry in _entries(run_log):
        name, code = _about(entry)
        if code is None:
            continue
        if code == "FlowSucceeded":
            if current != "start":
                path.append((current, "end", False))
            break
        if name is None:
            continue
        # FlowFailed / FlowInactive name the state they concern: it was entered too.
        if name != current or (finished and code.endswith("Started") and not code.startswith("Flow")):
            path.append((current, name, failed))
            current, failed, finished = name, False, False
        if code.endswith(("Failed", "Timeout")):
            failed = finished = True
        elif code.endswith(("Completed", "Succeeded")):
            finished = True
    return path


# ----------------------------------------------------------------------------- text


def rule_text(rule: Any) -> str:
    """A short text of a Choice rule: ``$.size > 10 and $.kind == 'tar'`` (see :func:`.rules.describe_rule`)."""
    return describe_rule(rule)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_LABEL else text[: _MAX_LABEL - 1] + "…"


# ----------------------------------------------------------------------------- the graph

# An edge: (from id, to id, label, kind, taken). kind: "next", "choice", "default", "catch".
_Edge = tuple[str, str, str, str, bool]


class _Graph:
    """Nodes and edges of a definition, in a fixed order, with a run laid on it."""

    def __init__(self, definition: Any, run_log: Any) -> None:
        if not isinstance(definition, Mapping) or not isinstance(definition.get("States"), Mapping):
            raise UsageError("definition must be a flow definition: an object with StartAt and States")
        states: Mapping[Any, Any] = definition["States"]
        self.ids: dict[str, str] = {}
        self.nodes: list[tuple[str, str, str]] = []  # (id, label, type)
        self.missing: list[tuple[str, str]] = []  # (id, label) of names no state has
        for i, (name, state) in enumerate(states.items()):
            self.ids[str(name)] = f"s{i}"
            stype = state.get("Type") if isinstance(state, Mapping) else None
            self.nodes.append((f"s{i}", str(name), stype if isinstance(stype, str) else ""))
        edges: list[tuple[str, str, str, str]] = []
        start = definition.get("StartAt")
        if isinstance(start, str):
            edges.append(("flow_start", self.target(start), "", "next"))
        for name, state in states.items():
            if not isinstance(state, Mapping):
                continue
            source = self.ids[str(name)]
            if isinstance(state.get("Next"), str):
                edges.append((source, self.target(state["Next"]), "", "next"))
            choices = state.get("Choices")
            for rule in choices if isinstance(choices, list) else ():
                if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                    edges.append((source, self.target(rule["Next"]), _short(rule_text(rule)), "choice"))
            if isinstance(state.get("Default"), str):
                edges.append((source, self.target(state["Default"]), "default", "default"))
            catchers = state.get("Catch")
            for catcher in catchers if isinstance(catchers, list) else ():
                if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
                    errors = catcher.get("ErrorEquals")
                    names = ", ".join(str(e) for e in errors) if isinstance(errors, list) else "?"
                    edges.append((source, self.target(catcher["Next"]), _short("catch: " + names), "catch"))
            if state.get("End") is True:
                edges.append((source, "flow_end", "", "next"))
        by_name = state_outcomes(run_log)
        self.outcomes = [(node_id, by_name[label]) for node_id, label, _ in self.nodes if label in by_name]
        self.has_run = run_log is not None
        taken = self._taken(edges, run_path(run_log))
        self.edges: list[_Edge] = [(*edge, i in taken) for i, edge in enumerate(edges)]

    def target(self, name: str) -> str:
        if name not in self.ids:
            node_id = f"m{len(self.missing)}"
            self.ids[name] = node_id
            self.missing.append((node_id, f"{name} (missing)"))
        return self.ids[name]

    def _taken(self, edges: list[tuple[str, str, str, str]], path: list[tuple[str, str, bool]]) -> set[int]:
        """Indexes of the edges the run went along (a Catch edge after a failure)."""
        special = {"start": "flow_start", "end": "flow_end"}
        taken: set[int] = set()
        for source, target, after_failure in path:
            a = special.get(source) if source in special else self.ids.get(source)
            b = special.get(target) if target in special else self.ids.get(target)
            between = [i for i, e in enumerate(edges) if e[0] == a and e[1] == b]
            if not between:
                continue
            preferred = [i for i in between if (edges[i][3] == "catch") == after_failure]
            taken.add((preferred or between)[0])
        return taken

    def kinds(self) -> set[str]:
        return {kind for *_, kind, _ in self.edges}

    def legend_rows(self) -> list[tuple[str, str]]:
        """(sample, meaning) rows for what this picture shows; samples are style names."""
        rows = [("next", "Next: a solid arrow")]
        kinds = self.kinds()
        if "choice" in kinds or "default" in kinds:
            rows.append(("choice", "Choice rule or Default: a labelled arrow"))
        if "catch" in kinds:
            rows.append(("catch", "Catch, followed on an error: red, dashed"))
        if any(taken for *_, taken in self.edges):
            rows.append(("path", "the path the run took: thick, blue"))
        present = {outcome for _, outcome in self.outcomes}
        rows.extend((outcome, f"state {outcome}") for outcome in OUTCOME_COLOURS if outcome in present)
        return rows


# ----------------------------------------------------------------------------- Mermaid


def _mermaid_text(text: str, extra: str = "") -> str:
    # Mermaid entity codes: '#' first, so the codes written after it stay codes.
    out = text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    out = out.replace("`", "#96;")
    if "|" in extra:
        out = out.replace("|", "#124;")
    return " ".join(out.split())


def to_mermaid(
    definition: Mapping[str, Any], run_log: Any = None, *, direction: str = "TD", legend: bool = True
) -> str:
    """The flow as a Mermaid ``flowchart`` (see the module docstring for what is drawn).

    ``run_log`` (optional) draws the run on it; ``direction`` is ``TD`` (top-down,
    default) or ``LR``, ``BT``, ``RL``. No HTTP call is made.
    """
    if direction not in ("TD", "TB", "LR", "BT", "RL"):
        raise UsageError(f"direction must be TD, TB, LR, BT or RL, got {direction!r}")
    graph = _Graph(definition, run_log)
    lines = [f"flowchart {direction}", '    flow_start(("start"))']
    for node_id, label, stype in graph.nodes:
        left, right = _MERMAID_SHAPES.get(stype, ('["', '"]'))
        lines.append(f"    {node_id}{left}{_mermaid_text(_short(label))}{right}")
    for node_id, label in graph.missing:
        lines.append(f'    {node_id}["{_mermaid_text(_short(label))}"]')
    lines.append('    flow_end(("end"))')
    styles: list[str] = []
    for i, (source, target, label, kind, taken) in enumerate(graph.edges):
        arrow = "-.->" if kind == "catch" else "==>" if taken else "-->"
        text = f'|"{_mermaid_text(label, "|")}"|' if label else ""
        lines.append(f"    {source} {arrow}{text} {target}")
        if taken:
            styles.append(f"    linkStyle {i} stroke:{_PATH_COLOUR},stroke-width:3px")
        elif kind == "catch":
            styles.append(f"    linkStyle {i} stroke:{_CATCH_COLOUR}")
    lines.extend(styles)
    for outcome, (fill, border) in OUTCOME_COLOURS.items():
        members = [node_id for node_id, o in graph.outcomes if o == outcome]
        if members:
            lines.append(f"    classDef {outcome} fill:{fill},stroke:{border},stroke-width:2px")
            lines.append(f"    class {','.join(members)} {outcome}")
    if legend:
        # Nodes only, so the legend adds no links and the linkStyle indexes above stay right.
        lines.append('    subgraph legend ["legend"]')
        for j, (sample, meaning) in enumerate(graph.legend_rows()):
            lines.append(f'        legend{j}["{_mermaid_text(meaning)}"]')
            if sample in OUTCOME_COLOURS:
                lines.append(f"        class legend{j} {sample}")
        lines.append("    end")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- DOT


def _dot_text(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + " ".join(escaped.split()) + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_dot(definition: Mapping[str, Any], run_log: Any = None, *, rankdir: str = "TB", legend: bool = True) -> str:
    """The flow as a Graphviz ``digraph`` (see the module docstring for what is drawn).

    ``run_log`` (optional) draws the run on it; ``rankdir`` is ``TB`` (default),
    ``LR``, ``BT`` or ``RL``. No HTTP call is made.
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise UsageError(f"rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    graph = _Graph(definition, run_log)
    colours = dict(graph.outcomes)
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
    for source, target, label, kind, taken in graph.edges:
        attrs = [f"label={_dot_text(label)}"] if label else []
        if kind == "catch":
            attrs.append(f'style=dashed, fontcolor="{_CATCH_COLOUR}"')
        if taken:
            attrs.append(f'penwidth=3, color="{_PATH_COLOUR}"')
        elif kind == "catch":
            attrs.append(f'color="{_CATCH_COLOUR}"')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {source} -> {target}{suffix};")
    if legend:
        lines.append(_dot_legend(graph.legend_rows()))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_legend(rows: list[tuple[str, str]]) -> str:
    samples = {
        "next": '<font color="black">&#8594;</font>',
        "choice": '<font color="black">&#8594; label</font>',
        "catch": f'<font color="{_CATCH_COLOUR}">- - &#8594;</font>',
        "path": f'<font color="{_PATH_COLOUR}"><b>&#8658;</b></font>',
    }
    cells = ['<tr><td colspan="2"><b>legend</b></td></tr>']
    for sample, meaning in rows:
        if sample in OUTCOME_COLOURS:
            fill, border = OUTCOME_COLOURS[sample]
            left = f'<td bgcolor="{fill}" border="1" color="{border}"> </td>'
        else:
            left = f"<td>{samples[sample]}</td>"
        cells.append(f'<tr>{left}<td align="left">{_html(meaning)}</td></tr>')
    table = "".join(cells)
    return f'    legend [shape=plaintext, fontsize=9, label=<<table border="0" cellborder="0" cellspacing="2">{table}</table>>];'


# ----------------------------------------------------------------------------- images


_INSTALL = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; Fedora: dnf install graphviz; "
    "macOS: brew install graphviz; conda: conda install graphviz), or pass dot= the path of the "
    "dot program, or draw text with format='dot' or 'mermaid'"
)


def _graphviz(dot_text: str, fmt: str, dot: str | None) -> bytes:
    import shutil
    import subprocess

    program = shutil.which(dot or "dot")
    if program is None:
        where = f"{dot!r} was not found" if dot else "the 'dot' program was not found on PATH"
        raise UsageError(f"drawing {fmt.upper()} needs Graphviz, and {where}; {_INSTALL}")
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"Graphviz ({program}) could not be run: {type(exc).__name__}: {exc}") from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip()[-300:]
        raise UsageError(f"Graphviz ({program}) failed with exit status {done.returncode}: {tail}")
    return done.stdout


def to_svg(definition: Mapping[str, Any], run_log: Any = None, *, rankdir: str = "TB", legend: bool = True,
           dot: str | None = None) -> str:
    """The picture of :func:`to_dot` as SVG text, drawn by Graphviz's ``dot`` program (no HTTP call).

    ``dot`` is the program to run (default: ``dot`` on ``PATH``); without it a
    :class:`~automate_lite.errors.UsageError` says what to install.
    """
    return _graphviz(to_dot(definition, run_log, rankdir=rankdir, legend=legend), "svg", dot).decode()


def to_png(definition: Mapping[str, Any], run_log: Any = None, *, rankdir: str = "TB", legend: bool = True,
           dot: str | None = None) -> bytes:
    """The picture of :func:`to_dot` as PNG bytes, drawn by Graphviz's ``dot`` program (no HTTP call)."""
    return _graphviz(to_dot(definition, run_log, rankdir=rankdir, legend=legend), "png", dot)




@overload
def render(definition: Mapping[str, Any], format: Literal["png"], run_log: Any = ..., *,
           direction: str = ..., legend: bool = ..., dot: str | None = ...) -> bytes: ...


@overload
def render(definition: Mapping[str, Any], format: Literal["dot", "mermaid", "svg"] = ..., run_log: Any = ..., *,
           direction: str = ..., legend: bool = ..., dot: str | None = ...) -> str: ...


def render(definition: Mapping[str, Any], format: str = "dot", run_log: Any = None, *,
           direction: str = "TB", legend: bool = True, dot: str | None = None) -> str | bytes:
    """The flow drawn in ``format``: ``"dot"`` or ``"mermaid"`` text, ``"svg"`` text or
    ``"png"`` bytes (these two need Graphviz). ``direction`` is TB (top to bottom), LR,
    BT or RL. No HTTP call is made."""
    if format == "mermaid":
        return to_mermaid(definition, run_log, direction="TD" if direction == "TB" else direction, legend=legend)
    direction = "TB" if direction == "TD" else direction  # Mermaid's spelling of top-down
    if format == "dot":
        return to_dot(definition, run_log, rankdir=direction, legend=legend)
    if format == "svg":
        return to_svg(definition, run_log, rankdir=direction, legend=legend, dot=dot)
    if format == "png":
        return to_png(definition, run_log, rankdir=direction, legend=legend, dot=dot)
    raise UsageError(f"format must be dot, mermaid, svg or png, got {format!r}")
