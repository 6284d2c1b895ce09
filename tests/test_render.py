"""Mermaid and DOT pictures of flow definitions (``automate_lite.definitions.render``), compared as text."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

import automate_lite as al
from automate_lite.flows import FlowsClient
from automate_lite.definitions.render import rule_text, state_outcomes, to_dot, to_mermaid
from automate_lite.testing.flows import FlowsStub

LINEAR = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Next": "Bye"}, "Bye": {"Type": "Pass", "End": True}}}

BRANCHES = {
    "Comment": "branches",
    "StartAt": 'Copy "files"',
    "States": {
        'Copy "files"': {
            "Type": "Action",
            "ActionUrl": "https://actions.example.org/transfer",
            "Next": "Big?",
            "Catch": [{"ErrorEquals": ["ActionFailedException", "ActionTimeout"], "Next": "Report"}],
        },
        "Big?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.size", "NumericGreaterThan": 100, "Next": "Compress"},
                {"Or": [{"Variable": "$.kind", "StringEquals": "tar"}, {"Not": {"Variable": "$.kind", "IsPresent": True}}],
                 "Next": "Report"},
            ],
            "Default": "Done",
        },
        "Compress": {"Type": "ExpressionEval", "Parameters": {"x.=": "1"}, "Next": "Pause"},
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
        "Report": {"Type": "Fail", "Error": "Oops"},
        "Done": {"Type": "Pass", "End": True},
    },
}


def test_linear_flow() -> None:
    assert to_mermaid(LINEAR, legend=False) == """\
flowchart TD
    flow_start(("start"))
    s0("Hello")
    s1("Bye")
    flow_end(("end"))
    flow_start --> s0
    s0 --> s1
    s1 --> flow_end
"""
    assert to_dot(LINEAR, legend=False) == """\
digraph flow {
    rankdir=TB;
    node [fontname="Helvetica"];
    edge [fontname="Helvetica", fontsize=10];
    flow_start [label="start", shape=circle];
    s0 [label="Hello", shape=box, style="rounded"];
    s1 [label="Bye", shape=box, style="rounded"];
    flow_end [label="end", shape=doublecircle];
    flow_start -> s0;
    s0 -> s1;
    s1 -> flow_end;
}
"""


def test_choices_catches_and_escaping() -> None:
    assert to_mermaid(BRANCHES, legend=False) == """\
flowchart TD
    flow_start(("start"))
    s0["Copy #quot;files#quot;"]
    s1{"Big?"}
    s2[["Compress"]]
    s3{{"Pause"}}
    s4>"Report"]
    s5("Done")
    flow_end(("end"))
    flow_start --> s0
    s0 --> s1
    s0 -.->|"catch: ActionFailedException, ActionTimeout"| s4
    s1 -->|"$.size #gt; 100"| s2
    s1 -->|"$.kind == 'tar' or not ($.kind is present)"| s4
    s1 -->|"default"| s5
    s2 --> s3
    s3 --> s5
    s5 --> flow_end
    linkStyle 2 stroke:#c62828
"""
    assert to_dot(BRANCHES, rankdir="LR", legend=False) == """\
digraph flow {
    rankdir=LR;
    node [fontname="Helvetica"];
    edge [fontname="Helvetica", fontsize=10];
    flow_start [label="start", shape=circle];
    s0 [label="Copy \\"files\\"", shape=box];
    s1 [label="Big?", shape=diamond];
    s2 [label="Compress", shape=box, style="rounded,dashed"];
    s3 [label="Pause", shape=hexagon];
    s4 [label="Report", shape=octagon];
    s5 [label="Done", shape=box, style="rounded"];
    flow_end [label="end", shape=doublecircle];
    flow_start -> s0;
    s0 -> s1;
    s0 -> s4 [label="catch: ActionFailedException, ActionTimeout", style=dashed, fontcolor="#c62828", color="#c62828"];
    s1 -> s2 [label="$.size > 100"];
    s1 -> s4 [label="$.kind == 'tar' or not ($.kind is present)"];
    s1 -> s5 [label="default"];
    s2 -> s3;
    s3 -> s5;
    s5 -> flow_end;
}
"""


def test_coloured_by_a_run_log() -> None:
    log = [
        {"code": "FlowStarted", "details": {"input": {}}},
        {"code": "ActionStarted", "details": {"state_name": 'Copy "files"'}},
        {"code": "ActionCompleted", "details": {"state_name": 'Copy "files"'}},
        {"code": "ChoiceStarted", "details": {"state_name": "Big?"}},
        {"code": "ChoiceCompleted", "details": {"state_name": "Big?", "next_state": "Compress"}},
        {"code": "ExpressionEvalStarted", "details": {"state_name": "Compress"}},
        {"code": "ExpressionEvalFailed", "details": {"state_name": "Compress"}},
        {"code": "FlowFailed", "details": {"state_name": "Compress"}},
    ]
    mermaid = to_mermaid(BRANCHES, log, legend=False)
    assert mermaid.endswith("""\
    s5 --> flow_end
    linkStyle 0 stroke:#1565c0,stroke-width:3px
    linkStyle 1 stroke:#1565c0,stroke-width:3px
    linkStyle 2 stroke:#c62828
    linkStyle 3 stroke:#1565c0,stroke-width:3px
    classDef succeeded fill:#d4edda,stroke:#2e7d32,stroke-width:2px
    class s0,s1 succeeded
    classDef failed fill:#f8d7da,stroke:#c62828,stroke-width:2px
    class s2 failed
""")
    dot = to_dot(BRANCHES, {"entries": log[:6]})  # a page works too; Compress is still going
    assert '    s0 [label="Copy \\"files\\"", shape=box, style="filled", fillcolor="#d4edda", color="#2e7d32"];\n' in dot
    assert '    s2 [label="Compress", shape=box, style="rounded,dashed,filled", fillcolor="#fff3cd", color="#f9a825"];\n' in dot
    assert '    s3 [label="Pause", shape=hexagon];\n' in dot


def test_web_inputs_missing_targets_and_long_labels() -> None:
    name = "A state with a very long name that goes on and on and on and on"
    definition = {"StartAt": "Ask", "States": {
        "Ask": {"Type": "CreateWebInput", "Next": "Await"},
        "Await": {"Type": "AwaitWebInput", "Next": name},
        name: {"Type": "Choice", "Choices": [{"Variable": "$.a|b", "StringEquals": "x#y<z>", "Next": "Gone"}]},
    }}
    assert to_mermaid(definition, direction="LR", legend=False) == """\
flowchart LR
    flow_start(("start"))
    s0[/"Ask"/]
    s1[/"Await"/]
    s2{"A state with a very long name that goes on and on and on an…"}
    m0["Gone (missing)"]
    flow_end(("end"))
    flow_start --> s0
    s0 --> s1
    s1 --> s2
    s2 -->|"$.a#124;b == 'x#35;y#lt;z#gt;'"| m0
"""
    dot = to_dot(definition, legend=False)
    assert '    m0 [label="Gone (missing)", shape=box, style="dashed"];\n' in dot
    assert "    s0 [label=\"Ask\", shape=parallelogram];\n" in dot
    assert "    s2 -> m0 [label=\"$.a|b == 'x#y<z>'\"];\n" in dot


def test_rule_text() -> None:
    assert rule_text({"Variable": "$.n", "NumericLessThanEqualsPath": "$.max"}) == "$.n <= $.max"
    assert rule_text({"Variable": "$.s", "StringMatches": "*.tar"}) == "$.s matches '*.tar'"
    assert rule_text({"Variable": "$.b", "BooleanEquals": False}) == "$.b == false"
    assert rule_text({"Variable": "$.v", "IsNull": False}) == "$.v is not null"
    assert rule_text({"Variable": "$.t", "TimestampGreaterThan": "2024-01-01T00:00:00Z"}) == \
        "$.t > '2024-01-01T00:00:00Z'"
    assert rule_text({"And": [{"Variable": "$.a", "IsNumeric": True},
                              {"Or": [{"Variable": "$.a", "NumericEquals": 1}, {"Variable": "$.a", "NumericEquals": 2}]}]}) == \
        "$.a is numeric and ($.a == 1 or $.a == 2)"
    assert rule_text({"Variable": "$.q", "StringEquals": "it's"}) == "$.q == 'it\\'s'"


def test_state_outcomes() -> None:
    log = [
        {"code": "PassStarted", "details": {"state_name": "A"}},
        {"code": "PassCompleted", "details": {"state_name": "A"}},
        {"code": "ActionStarted", "details": {"state_name": "B"}},
        {"code": "FlowInactive", "details": {"state_name": "B"}},
        {"code": "FlowResumed", "details": {"state_name": "B"}},
        {"code": "ActionPolled", "details": {"state_name": "C"}},
        {"code": "ActionFailed", "details": {"state_name": "D"}},
        {"code": "WaitStarted", "details": {"state_name": "E"}},
        {"code": "FlowCanceled", "details": {"state_name": "E"}},
        {"code": "FlowSucceeded", "details": {"output": {}}},
        "not an entry",
    ]
    assert state_outcomes(log) == {"A": "succeeded", "B": "active", "C": "active", "D": "failed", "E": "canceled"}
    assert state_outcomes(log[:4]) == {"A": "succeeded", "B": "inactive"}
    assert state_outcomes(None) == {} and state_outcomes({"entries": log[:1]}) == {"A": "active"}


def test_input_untouched_output_deterministic_bad_input_refused() -> None:
    before = copy.deepcopy(BRANCHES)
    log = [{"code": "PassCompleted", "details": {"state_name": "Done"}}]
    log_before = copy.deepcopy(log)
    first = (to_mermaid(BRANCHES, log), to_dot(BRANCHES, log))
    assert (to_mermaid(BRANCHES, log), to_dot(BRANCHES, log)) == first
    assert BRANCHES == before and log == log_before
    bad: Any
    for bad in (None, [], {"StartAt": "A"}, {"States": []}):
        with pytest.raises(al.UsageError):
            to_mermaid(bad)
        with pytest.raises(al.UsageError):
            to_dot(bad)
    with pytest.raises(al.UsageError):
        to_mermaid(LINEAR, "not a log")
    with pytest.raises(al.UsageError):
        to_mermaid(LINEAR, direction="sideways")
    with pytest.raises(al.UsageError):
        to_dot(LINEAR, rankdir="UP")


def test_colours_from_a_real_run() -> None:
    definition: dict[str, Any] = {"StartAt": "Start", "States": {
        "Start": {"Type": "Pass", "Next": "Check"},
        "Check": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Stop"}],
                  "Default": "Done"},
        "Stop": {"Type": "Fail", "Error": "Halted"},
        "Done": {"Type": "Pass", "End": True},
    }}
    with FlowsStub() as stub:
        fc = FlowsClient.new_client(None, lambda **kw: al.BearerTokenAuthorizer("f"), al.BearerTokenAuthorizer("s"),
                                    base_url=stub.url)
        fid = fc.deploy_flow(definition, "render")["id"]
        run_id = fc.run_flow(fid, None, {"go": True})["run_id"]
        deadline = time.monotonic() + 10
        while fc.get_run(run_id)["status"] == "ACTIVE" and time.monotonic() < deadline:
            time.sleep(0.01)
        entries = list(fc.iter_run_logs(run_id))
        fc.close()
    assert to_mermaid(definition, entries, legend=False).endswith("""\
    linkStyle 0 stroke:#1565c0,stroke-width:3px
    linkStyle 1 stroke:#1565c0,stroke-width:3px
    linkStyle 2 stroke:#1565c0,stroke-width:3px
    classDef succeeded fill:#d4edda,stroke:#2e7d32,stroke-width:2px
    class s0,s1 succeeded
    classDef failed fill:#f8d7da,stroke:#c62828,stroke-width:2px
    class s2 failed
""")


# ----------------------------------------------------------------------------- path, legend, images

from automate_lite.definitions.render import render, run_path, to_png, to_svg  # noqa: E402

CAUGHT = [
    {"code": "FlowStarted", "details": {"input": {}}},
    {"code": "ActionStarted", "details": {"state_name": 'Copy "files"'}},
    {"code": "ActionFailed", "details": {"state_name": 'Copy "files"'}},
    {"code": "FlowFailed", "details": {"state_name": "Report"}},
]


def test_run_path_follows_catches_loops_and_the_end() -> None:
    assert run_path(CAUGHT) == [("start", 'Copy "files"', False), ('Copy "files"', "Report", True)]
    loop = [
        {"code": "PassStarted", "details": {"state_name": "A"}},
        {"code": "PassCompleted", "details": {"state_name": "A"}},
        {"code": "PassStarted", "details": {"state_name": "A"}},  # A -> A
        {"code": "PassCompleted", "details": {"state_name": "A"}},
        {"code": "WaitStarted", "details": {"state_name": "B"}},
        {"code": "FlowSucceeded", "details": {"output": {}}},
    ]
    assert run_path(loop) == [("start", "A", False), ("A", "A", False), ("A", "B", False), ("B", "end", False)]
    assert run_path(None) == [] and run_path([{"code": "FlowSucceeded"}]) == []


def test_the_catch_edge_the_run_took_is_drawn_as_taken_and_dashed() -> None:
    dot = to_dot(BRANCHES, CAUGHT, legend=False)
    assert '    flow_start -> s0 [penwidth=3, color="#1565c0"];\n' in dot
    assert ('    s0 -> s4 [label="catch: ActionFailedException, ActionTimeout", style=dashed, '
            'fontcolor="#c62828", penwidth=3, color="#1565c0"];\n') in dot
    assert "    s0 -> s1;\n" in dot  # the normal edge to the same state is not the one taken
    mermaid = to_mermaid(BRANCHES, CAUGHT, legend=False)
    assert "    flow_start ==> s0\n" in mermaid and '    s0 -.->|"catch: ' in mermaid
    assert "    linkStyle 2 stroke:#1565c0,stroke-width:3px\n" in mermaid


def test_the_legend_explains_what_the_picture_shows() -> None:
    plain = to_dot(LINEAR)
    assert "legend [shape=plaintext" in plain and "Next: a solid arrow" in plain
    assert "Catch" not in plain and "path the run took" not in plain  # only what appears
    full = to_dot(BRANCHES, CAUGHT)
    for text in ("Choice rule or Default", "Catch, followed on an error: red, dashed",
                 "the path the run took: thick, blue", 'bgcolor="#f8d7da"', "state failed"):
        assert text in full, text
    mermaid = to_mermaid(BRANCHES, CAUGHT)
    assert mermaid.endswith("""\
    subgraph legend ["legend"]
        legend0["Next: a solid arrow"]
        legend1["Choice rule or Default: a labelled arrow"]
        legend2["Catch, followed on an error: red, dashed"]
        legend3["the path the run took: thick, blue"]
        legend4["state failed"]
        class legend4 failed
    end
""")


def test_render_formats_and_bad_format() -> None:
    assert render(LINEAR) == to_dot(LINEAR)
    assert render(LINEAR, "mermaid", legend=False) == to_mermaid(LINEAR, legend=False)
    assert render(LINEAR, "mermaid", direction="LR").startswith("flowchart LR\n")
    assert "    rankdir=LR;\n" in render(LINEAR, "dot", direction="LR")
    with pytest.raises(al.UsageError, match="format must be dot, mermaid, svg or png"):
        render(LINEAR, "jpeg")  # type: ignore[call-overload]


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="needs Graphviz's dot (apt-get install graphviz)")
def test_svg_and_png_drawn_by_graphviz() -> None:
    svg = to_svg(BRANCHES, CAUGHT)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Copy &quot;files&quot;" in svg
    assert "catch: ActionFailedException" in svg and "legend" in svg
    assert render(BRANCHES, "svg", CAUGHT) == svg
    png = to_png(BRANCHES)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and render(BRANCHES, "png") == png


def test_svg_without_graphviz_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot anywhere
    with pytest.raises(al.UsageError) as info:
        to_svg(LINEAR)
    message = str(info.value)
    assert "needs Graphviz" in message and "'dot' program was not found on PATH" in message
    assert "apt-get install graphviz" in message and "format='dot'" in message
    with pytest.raises(al.UsageError, match="'/nowhere/dot' was not found"):
        render(LINEAR, "png", dot="/nowhere/dot")
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(al.UsageError, match="failed with exit status 3: syntax error in line 1"):
        to_svg(LINEAR)


# ----------------------------------------------------------------------------- hypothesis

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=6) | st.sampled_from(["A", "B", "$.x", "Choice"])
_values = st.recursive(
    _scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(
        st.sampled_from(["Type", "Next", "End", "Choices", "Default", "Catch", "ErrorEquals", "Variable", "And", "Or",
                         "Not", "StringEquals", "IsPresent", "NumericGreaterThanPath"]) | st.text(max_size=3), c, max_size=4),
    max_leaves=15,
)
_logs = st.lists(st.fixed_dictionaries({"code": st.sampled_from(["PassStarted", "ActionFailed", "FlowSucceeded", "FlowFailed",
                                                                 "ChoiceCompleted", "X"]) | _scalars,
                                        "details": st.fixed_dictionaries({}, optional={"state_name": st.sampled_from(["A", "B", "C"]) | _scalars})}),
                 max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({"StartAt": _scalars, "States": st.dictionaries(st.sampled_from(["A", "B", "C"]), _values, max_size=4)}),
       _logs)
def test_any_definition_and_log_draw_without_crashing(definition: Any, log: Any) -> None:
    for legend in (True, False):
        assert to_dot(definition, log, legend=legend) == to_dot(definition, log, legend=legend)
        assert to_mermaid(definition, log, legend=legend).startswith("flowchart TD\n")
    run_path(log)
