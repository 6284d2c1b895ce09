"""The automate-lite demo: real HTTP against the loopback stand-ins in ``stubs/``.

Run it with the first command of the README's Quick start. It starts a local Action
Provider, runs an action with :class:`ActionClient`, waits for it and prints its log,
then runs ten actions at once with :class:`AsyncActionClient`. Progress goes to
stderr, results to stdout; the exit status is 0 on success.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import automate_lite as al
from stubs.action_provider import ActionProviderStub

TOKEN = "demo-token"
IDENTITY = "urn:globus:auth:identity:11111111-2222-3333-4444-555555555555"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sync_part(url: str) -> None:
    client = al.ActionClient.new_client(url, al.BearerTokenAuthorizer(TOKEN))
    say(f"[sync] provider: {client.introspect()['title']} (scope {client.action_scope})")
    started = client.run({"echo_string": "Hello from automate-lite", "sleep_s": 0.3}, label="demo action")
    action_id = started["action_id"]
    say(f"[sync] started action {action_id}: {started['status']}")
    final = client.wait(action_id, timeout=30, initial_delay=0.1)
    say(f"[sync] action finished: {final['status']}")
    print(json.dumps({"action_id": action_id, "status": final["status"], "details": final["details"]}, indent=2))
    print("log:")
    for entry in client.iter_log(action_id):
        print(f"  {entry['time']}  {entry['code']:<16} {entry['description']}")
    client.release(action_id)
    client.close()


async def async_part(url: str, count: int = 10) -> None:
    async with al.AsyncActionClient.new_client(url, al.BearerTokenAuthorizer(TOKEN)) as client:
        t0 = time.perf_counter()
        started = await asyncio.gather(
            *(client.run({"echo_string": f"action {i}", "sleep_s": 0.2}) for i in range(count))
        )
        say(f"[async] started {len(started)} actions at once")
        finals = await asyncio.gather(*(client.wait(s["action_id"], timeout=30, initial_delay=0.05) for s in started))
        took = time.perf_counter() - t0
        ok = sum(f["status"] == "SUCCEEDED" for f in finals)
        print(f"{ok}/{count} async actions SUCCEEDED in {took:.2f}s")
        if ok != count:
            raise RuntimeError(f"only {ok} of {count} actions succeeded")


def main() -> int:
    try:
        with ActionProviderStub(tokens={TOKEN: IDENTITY}, prefix="/hello_world") as provider:
            say(f"local Action Provider at {provider.url}")
            sync_part(provider.url)
            asyncio.run(async_part(provider.url))
    except (al.AutomateError, RuntimeError) as exc:
        say(f"demo failed: {exc}")
        return 1
    say("demo finished OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
