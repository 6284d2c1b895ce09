"""``automate-lite run ...``: runs of flows, through :class:`automate_lite.FlowsClient`."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from ._context import Context, InputError
from ._watch import Progress, follow_run

if TYPE_CHECKING:
    from ..flows import FlowsClient

__all__ = ["list_", "get", "logs", "watch", "cancel", "resume", "release", "finish_watch", "RUN_KEYS"]

RUN_KEYS = ("run_id", "flow_id", "flow_title", "status", "display_status", "label", "tags", "run_owner",
            "start_time", "completion_time", "details")
_RUN_COLUMNS = ("run_id", "flow_title", "status", "label", "start_time")


def exit_for_run(doc: Any) -> int:
    """0 for SUCCEEDED; 1 for FAILED, ENDED (cancelled) and INACTIVE (waiting for someone)."""
    return 0 if doc.get("status") == "SUCCEEDED" else 1


def finish_watch(ctx: Context, client: FlowsClient, run_id: str) -> int:
    """Follow ``run_id`` live until it leaves ACTIVE, print the final document, exit by its status."""
    a = ctx.args
    final = follow_run(client, run_id, Progress(json_output=ctx.out.json), timeout=a.wait_timeout,
                       interval=a.interval)
    ctx.out.document(final.data, RUN_KEYS)
    if final.get("status") == "INACTIVE":
        details = final.get("details") if isinstance(final.get("details"), dict) else {}
        why = (details or {}).get("code") or "waiting"
        ctx.out.line(f"the run is INACTIVE ({why}); once that is dealt with: automate-lite run resume {run_id}")
    return exit_for_run(final)


def list_(ctx: Context) -> int:
    """``GET /runs`` (every page, or until ``--limit``)."""
    a = ctx.args
    if a.limit is not None and a.limit < 1:
        raise InputError(f"--limit must be 1 or more, got {a.limit}")
    kwargs: dict[str, Any] = {}
    for key, value in (("filter_flow_id", a.flow_ids), ("filter_status", a.statuses), ("filter_roles", a.roles)):
        if value:
            kwargs[key] = value
    runs = ctx.flows_client().iter_runs(**kwargs)
    rows = list(itertools.islice(runs, a.limit) if a.limit is not None else runs)
    ctx.out.table(rows, _RUN_COLUMNS)
    return 0


def get(ctx: Context) -> int:
    """``GET /runs/{id}``."""
    ctx.out.document(ctx.flows_client().get_run(ctx.args.run_id).data, RUN_KEYS)
    return 0


def logs(ctx: Context) -> int:
    """``GET /runs/{id}/log``, every page."""
    client = ctx.flows_client()
    entries = list(client.iter_run_logs(ctx.args.run_id, reverse_order=True if ctx.args.reverse else False))
    rows = [dict(e, state=(e.get("details") or {}).get("state_name") if isinstance(e.get("details"), dict) else None)
            for e in entries]
    if ctx.out.json:
        ctx.out.table(entries, ())
    else:
        ctx.out.table(rows, ("time", "code", "state", "description"))
    return 0


def watch(ctx: Context) -> int:
    """``GET /runs/{id}`` and ``/runs/{id}/log`` until the run leaves ACTIVE; exit 0 only for SUCCEEDED."""
    return finish_watch(ctx, ctx.flows_client(), ctx.args.run_id)


def cancel(ctx: Context) -> int:
    """``POST /runs/{id}/cancel``."""
    ctx.out.document(ctx.flows_client().cancel_run(ctx.args.run_id).data, RUN_KEYS)
    return 0


def resume(ctx: Context) -> int:
    """``POST /runs/{id}/resume``."""
    ctx.out.document(ctx.flows_client().resume_run(ctx.args.run_id).data, RUN_KEYS)
    return 0


def release(ctx: Context) -> int:
    """``POST /runs/{id}/release``."""
    ctx.out.document(ctx.flows_client().release_run(ctx.args.run_id).data, RUN_KEYS)
    return 0
