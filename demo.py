"""The automate-lite demo: real flows, run end to end on this machine.

Run it with the first command of the README's Quick start. It starts, on 127.0.0.1,
the local Flows service (which executes flow definitions for real) and three Action
Providers (hello/echo, sleep, and one that always fails), then:

1. calls a provider directly with ``ActionClient``: run, wait, print its log;
2. deploys a flow that uses Pass, ExpressionEval, Action (with a Catch), Choice and
   Wait states, runs it with ``FlowsClient`` showing progress on stderr (``on_update``), prints its
   output and run log, and draws it (Mermaid and Graphviz DOT, coloured by the run)
   into ``demo-output/``;
3. starts 50 runs of that flow at once with ``AsyncFlowsClient`` and reports how long
   they took.

Progress goes to stderr, results to stdout. Exit status 0 on success, 1 with a
message on failure.
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import sys
import time
from contextlib import ExitStack
from typing import Any, Mapping

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowsStub

SERVICE_TOKEN = "demo-service-token"
FLOW_TOKEN = "demo-flow-token"
ACTION_TOKEN = "demo-action-token"
USER = "urn:globus:auth:identity:11111111-2222-3333-4444-555555555555"
OUT = pathlib.Path("demo-output")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def flow_definition(hello_url: str, sleep_url: str, fail_url: str) -> dict[str, Any]:
    """A flow with one state of most types; the failing provider's error is caught."""
    return {
        "Comment": "automate-lite demo: greet, count, branch, wait, and survive a failure",
        "StartAt": "MakeGreeting",
        "States": {
            "MakeGreeting": {
                "Type": "Pass",
                "Parameters": {"text.=": "'Hello, ' + name + '!'", "name.$": "$.name"},
                "ResultPath": "$.greeting",
                "Next": "Echo",
            },
            "Echo": {
                "Type": "Action",
                "ActionUrl": hello_url,
                "Parameters": {"echo_string.$": "$.greeting.text"},
                "ResultPath": "$.echo",
                "Next": "Measure",
            },
            "Measure": {
                "Type": "ExpressionEval",
                "Parameters": {"length.=": "len(greeting.text)", "shout.=": "upper(greeting.text)"},
                "ResultPath": "$.measure",
                "Next": "LongOrShort",
            },
            "LongOrShort": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.measure.length", "NumericGreaterThan": 15, "Next": "Nap"}],
                "Default": "Pause",
            },
            "Nap": {
                "Type": "Action",
                "ActionUrl": sleep_url,
                "Parameters": {"sleep_s": 0.2, "echo_string": "napped"},
                "ResultPath": "$.nap",
                "Next": "TryTheFlakyOne",
            },
            "Pause": {"Type": "Wait", "Seconds": 0.2, "Next": "TryTheFlakyOne"},
            "TryTheFlakyOne": {
                "Type": "Action",
                "ActionUrl": fail_url,
                "Parameters": {"fail": True},
                "ResultPath": "$.flaky",
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.flaky_error", "Next": "Done"}],
                "Next": "Done",
            },
            "Done": {
                "Type": "Pass",
                "Parameters": {
                    "greeting.$": "$.greeting.text",
                    "echoed.$": "$.echo.details.echo_string",
                    "shout.$": "$.measure.shout",
                    "caught.$": "$.flaky_error.details.code",
                },
                "ResultPath": "$.summary",
                "End": True,
            },
        },
    }


INPUT_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}


def flow_callback(**_: Any) -> al.BearerTokenAuthorizer:
    """The flow-scope authorizer (in real life, from a login or a token store)."""
    return al.BearerTokenAuthorizer(FLOW_TOKEN)


def action_part(hello_url: str) -> None:
    client = al.ActionClient.new_client(hello_url, al.BearerTokenAuthorizer(ACTION_TOKEN))
    say(f"[action] provider: {client.introspect()['title']}")
    started = client.run({"echo_string": "Hello from automate-lite", "sleep_s": 0.2}, label="demo action")
    final = client.wait(started["action_id"], timeout=30, initial_delay=0.05)
    print(f"action {started['action_id']}: {final['status']}, details {json.dumps(final['details'])}")
    print("action log:")
    for entry in client.iter_log(started["action_id"]):
        print(f"  {entry['code']:<16} {entry['description']}")
    client.release(started["action_id"])
    client.close()


def follow(flows: al.FlowsClient, run_id: str) -> dict[str, Any]:
    """Wait for the run, printing each status and each state it enters as it happens."""

    def progress(kind: str, data: Mapping[str, Any]) -> None:
        if kind == "status":
            say(f"[flow] run is {data['status']}")
        elif data.get("code", "").endswith("Started") or data.get("code") == "FlowSucceeded":
            state = (data.get("details") or {}).get("state_name") or ""
            say(f"[flow]   {data['code']:<22} {state}")

    run = flows.wait_for_run(run_id, timeout=120, initial_delay=0.02, max_delay=0.2, on_update=progress)
    return dict(run.data)


def flow_part(flows_url: str, definition: dict[str, Any]) -> str:
    flows = al.FlowsClient.new_client(
        "demo-client", flow_callback, al.BearerTokenAuthorizer(SERVICE_TOKEN), base_url=flows_url
    )
    al.validate_flow_definition(definition)  # deploy_flow does this too; shown here on purpose
    flow = flows.deploy_flow(definition, "automate-lite demo flow", input_schema=INPUT_SCHEMA, keywords=["demo"])
    say(f"[flow] deployed {flow['id']} (scope {flow['globus_auth_scope']})")
    run = flows.run_flow(flow["id"], None, {"name": "automate-lite user"}, label="demo run", tags=["demo"])
    say(f"[flow] started run {run['run_id']}")
    final = follow(flows, run["run_id"])
    say(f"[flow] run finished: {final['status']}")
    if final["status"] != "SUCCEEDED":
        raise RuntimeError(f"the demo run ended {final['status']}: {json.dumps(final.get('details'))}")
    summary = final["details"]["output"]["summary"]
    print("flow output summary:")
    print(json.dumps(summary, indent=2))
    print("run log:")
    log = list(flows.iter_run_logs(run["run_id"]))
    for entry in log:
        state = (entry.get("details") or {}).get("state_name", "")
        print(f"  {entry['code']:<24} {state:<16} {entry['description']}")
    OUT.mkdir(exist_ok=True)
    (OUT / "flow.mmd").write_text(al.to_mermaid(definition, log).rstrip("\n") + "\n")
    (OUT / "flow.dot").write_text(al.to_dot(definition, log).rstrip("\n") + "\n")
    say(f"[flow] wrote {OUT / 'flow.mmd'} and {OUT / 'flow.dot'} (coloured by this run)")
    flows.release_run(run["run_id"])
    flows.close()
    return str(flow["id"])


async def many_runs(flows_url: str, flow_id: str, count: int = 50) -> None:
    async with al.AsyncFlowsClient.new_client(
        "demo-client", flow_callback, al.BearerTokenAuthorizer(SERVICE_TOKEN), base_url=flows_url
    ) as flows:
        t0 = time.perf_counter()
        runs = await asyncio.gather(
            *(flows.run_flow(flow_id, None, {"name": f"user {i}"}, label=f"batch {i}") for i in range(count))
        )
        finals = await asyncio.gather(
            *(flows.wait_for_run(r["run_id"], timeout=120, initial_delay=0.05, max_delay=0.5) for r in runs)
        )
        took = time.perf_counter() - t0
    ok = [f for f in finals if f["status"] == "SUCCEEDED"]
    greetings = {f["details"]["output"]["summary"]["greeting"] for f in ok}
    print(f"{len(ok)}/{count} concurrent runs SUCCEEDED in {took:.2f}s ({len(greetings)} distinct outputs)")
    if len(ok) != count or len(greetings) != count:
        raise RuntimeError(f"only {len(ok)} of {count} runs succeeded with their own output")


def main() -> int:
    try:
        with ExitStack() as stack:
            providers = {
                name: stack.enter_context(ActionProviderStub(tokens={ACTION_TOKEN: USER}, prefix=f"/{name}", title=f"{name} provider"))
                for name in ("hello_world", "sleep", "always_fails")
            }
            flows_service = stack.enter_context(
                FlowsStub(tokens={SERVICE_TOKEN: USER}, flow_tokens={FLOW_TOKEN: USER}, action_token=ACTION_TOKEN)
            )
            for name, provider in providers.items():
                say(f"local Action Provider '{name}' at {provider.url}")
            say(f"local Flows service at {flows_service.url}")
            action_part(providers["hello_world"].url)
            definition = flow_definition(
                providers["hello_world"].url, providers["sleep"].url, providers["always_fails"].url
            )
            flow_id = flow_part(flows_service.url, definition)
            asyncio.run(many_runs(flows_service.url, flow_id))
    except (al.AutomateError, RuntimeError, OSError) as exc:
        say(f"demo failed: {exc}")
        return 1
    say("demo finished OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
