"""Time per call to validate a 50-state flow definition: automate-lite against
globus-automate-client 0.18's jsonschema validator, measured in the same run.

    python -m benchmarks.validation_bench [--offline] [--repeat N]

The definition uses only what the 0.18 schema knows (the six classic state types,
``ActionUrl``), so both validators accept it and do their whole job on it. Measured:

* ``automate-lite``: ``flow_definition_problems`` (table checks, reachability, and
  every JSONPath and ``.=`` expression parsed by the shared readers), once with the
  readers' caches cleared before each call (what a first deploy of a new definition
  costs) and once warm (the same definition validated again);
* ``gac validate_flow_definition``: the peer's public function, as its users call it
  (it reads and compiles its schema on every call);
* ``gac prebuilt validator``: the peer's schema compiled once, ``iter_errors`` per
  call plus its state-reference check: the fairest floor for the peer.

Each contender runs in its own interpreter (the peer in the ``gac`` venv that
``benchmarks/venvs.py`` builds, reused when present), best of ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from . import venvs

__all__ = ["fifty_states", "main"]


def fifty_states() -> dict[str, Any]:
    """A valid 50-state definition: 20 Actions, 10 Pass, 10 ExpressionEval, 5 Choice, 4 Wait, 1 Fail."""
    states: dict[str, Any] = {}
    names = [f"S{i:02d}" for i in range(50)]
    kinds = (["Action"] * 20 + ["Pass"] * 10 + ["ExpressionEval"] * 10 + ["Choice"] * 5 + ["Wait"] * 4)
    for i, kind in enumerate(kinds):
        here, nxt = names[i], names[i + 1]
        if kind == "Action":
            states[here] = {
                "Type": "Action",
                "Comment": f"step {i}",
                "ActionUrl": "https://transfer.actions.globus.org/transfer",
                "Parameters": {
                    "source_endpoint.$": "$.input.source.id",
                    "destination_endpoint.$": "$.input.destination.id",
                    "label.=": f"'step {i} of ' + input.name",
                    "DATA": [{"source_path.$": f"$.input.files[{i % 5}]", "destination_path": f"/archive/{i}/",
                              "recursive": True}],
                },
                "ResultPath": f"$.results.s{i}",
                "WaitTime": 3600,
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": names[49], "ResultPath": "$.error"}],
                "Next": nxt,
            }
        elif kind == "Pass":
            states[here] = {"Type": "Pass", "Parameters": {"copy.$": f"$.results.s{i - 20}"},
                            "ResultPath": f"$.passed.p{i}", "Next": nxt}
        elif kind == "ExpressionEval":
            states[here] = {"Type": "ExpressionEval",
                            "Parameters": {"n.=": f"len(input.files) * {i} + 1", "ok.=": "input.size > 10 and not input.dry"},
                            "ResultPath": f"$.computed.c{i}", "Next": nxt}
        elif kind == "Choice":
            states[here] = {"Type": "Choice", "Default": nxt, "Choices": [
                {"Variable": "$.input.size", "NumericGreaterThan": 1000, "Next": nxt},
                {"And": [{"Variable": "$.input.name", "StringMatches": "*.tar"},
                         {"Not": {"Variable": "$.input.dry", "BooleanEquals": True}}], "Next": nxt},
            ]}
        else:
            states[here] = {"Type": "Wait", "Seconds": 1, "Next": nxt}
    states[names[49]] = {"Type": "Fail", "Error": "Failed", "Cause": "a step failed"}
    # The last Wait leads to the Fail through Next; everything is reachable.
    return {"Comment": "50 states for the benchmark", "StartAt": names[0], "States": states}


# The measuring child: the same loop in each interpreter. argv: mode, definition file, calls, rounds.
_CHILD = r"""
import json, sys, time
mode, path, calls, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
definition = json.load(open(path))
if mode.startswith("al"):
    from automate_lite.definitions import expressions, jsonpath
    from automate_lite.definitions.validation import flow_definition_problems
    # The readers cache what they parsed (private names: skipped if they change).
    cached = [f for f in (getattr(expressions, "_parse_cached", None), getattr(jsonpath, "_parse_text", None))
              if hasattr(f, "cache_clear")]
    cold = mode == "al-cold"
    def call():
        if cold:
            for f in cached:
                f.cache_clear()
        problems = flow_definition_problems(definition)
        assert not problems, problems
elif mode == "gac":
    from globus_automate_client.flows_client import validate_flow_definition as call_it
    def call():
        call_it(definition)
else:
    import pathlib
    import globus_automate_client.flows_client as fc
    from jsonschema import Draft7Validator
    schema = json.loads((pathlib.Path(fc.__file__).parent / "flows_schema.json").read_text())
    validator = Draft7Validator(schema)
    def call():
        errors = list(validator.iter_errors(definition))
        assert not errors, errors
        refs = fc._all_vals_for_keys({"Next", "Default", "StartAt"}, definition, stop_traverse_key_set={"Parameters"})
        assert not (set(definition["States"]) - refs) and not (refs - set(definition["States"]))
call()  # warm: imports, and the check that the definition is valid here
best = None
for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(calls):
        call()
    per_call = (time.perf_counter() - start) / calls
    best = per_call if best is None else min(best, per_call)
print(json.dumps({"per_call_s": best}))
"""


def _measure(python: str, mode: str, path: str, calls: int, rounds: int, env: dict[str, str]) -> float | str:
    try:
        done = subprocess.run([python, "-c", _CHILD, mode, path, str(calls), str(rounds)], capture_output=True,
                              text=True, timeout=900, env=env, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not run: {type(exc).__name__}"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
    value = json.loads(done.stdout.strip().splitlines()[-1])["per_call_s"]
    return float(value)


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures and ratios (no network unless the gac venv must be built)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--offline", action="store_true", help="do not build the gac venv if it is missing")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per contender (best is kept)")
    parser.add_argument("--calls", type=int, default=200, help="calls per round")
    args = parser.parse_args(argv)

    definition = fifty_states()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "definition.json")
        with open(path, "w") as f:
            json.dump(definition, f)
        al_env = dict(os.environ, PYTHONPATH=venvs.REPO)
        results: dict[str, float | str] = {
            "automate-lite (parser caches cleared)": _measure(sys.executable, "al-cold", path, args.calls, args.repeat, al_env),
            "automate-lite (same definition again)": _measure(sys.executable, "al-warm", path, args.calls, args.repeat, al_env),
        }
        gac = venvs.prepare(["gac"], offline=args.offline)["gac"]
        peer_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        for label, mode in (("gac validate_flow_definition", "gac"), ("gac prebuilt validator", "gac-prebuilt")):
            if gac.ok and gac.python and gac.can_import("globus_automate_client"):
                results[label] = _measure(gac.python, mode, path, args.calls, args.repeat, peer_env)
            else:
                results[label] = f"skipped: {gac.error or 'globus_automate_client does not import'}"

    print(f"Validation of a {len(definition['States'])}-state definition, time per call "
          f"(best of {args.repeat} x {args.calls} calls, Python {sys.version.split()[0]})")
    ours = results["automate-lite (parser caches cleared)"]
    for label, value in results.items():
        if isinstance(value, str):
            print(f"  {label:40s} {value}")
            continue
        ratio = f"  {value / ours:6.2f}x" if isinstance(ours, float) else ""
        print(f"  {label:40s} {value * 1e6:10.1f} us{ratio}")
    print("  (ratio: time per call / automate-lite's with caches cleared; above 1 = slower than automate-lite)")
    return 0 if isinstance(ours, float) else 1


if __name__ == "__main__":
    raise SystemExit(main())
