"""``automate-lite action ...``: one Action Provider, through :class:`automate_lite.ActionClient`."""

from __future__ import annotations

from typing import Any

from ._context import Context, read_json_object
from ._watch import Progress, follow_action

__all__ = ["introspect", "run", "status", "wait", "log", "cancel", "release", "resume"]

_STATUS_KEYS = ("action_id", "status", "display_status", "label", "creator_id", "start_time",
                "completion_time", "release_after", "details")
_INTROSPECT_KEYS = ("title", "subtitle", "globus_auth_scope", "synchronous", "log_supported",
                    "api_version", "admin_contact", "runnable_by", "visible_to")


def _exit_for(doc: Any) -> int:
    """0 unless the action failed or is stuck INACTIVE."""
    return 0 if doc.get("status") in ("SUCCEEDED", "ACTIVE") else 1


def introspect(ctx: Context) -> int:
    """``GET {url}/``."""
    ctx.out.document(ctx.action_client().introspect().data, _INTROSPECT_KEYS)
    return 0


def run(ctx: Context) -> int:
    """``POST {url}/run``, then (``--wait``) ``GET {url}/{id}/status`` until it finishes."""
    a = ctx.args
    body = read_json_object(a.body, "--body", "(the action's body), e.g. '{\"echo_string\": \"hi\"}'")
    client = ctx.action_client()
    started = client.run(body, request_id=a.request_id, manage_by=a.manage_by, monitor_by=a.monitor_by,
                         label=a.label, tags=a.tags)
    doc = started
    if a.wait and started.get("status") == "ACTIVE":
        doc = follow_action(client, started["action_id"], Progress(json_output=ctx.out.json),
                            timeout=a.wait_timeout, interval=a.interval)
    ctx.out.document(doc.data, _STATUS_KEYS)
    return _exit_for(doc) if a.wait else 0


def status(ctx: Context) -> int:
    """``GET {url}/{id}/status``."""
    ctx.out.document(ctx.action_client().status(ctx.args.action_id).data, _STATUS_KEYS)
    return 0


def wait(ctx: Context) -> int:
    """``GET {url}/{id}/status`` until SUCCEEDED, FAILED or INACTIVE; exit 1 unless SUCCEEDED."""
    a = ctx.args
    doc = follow_action(ctx.action_client(), a.action_id, Progress(json_output=ctx.out.json),
                        timeout=a.wait_timeout, interval=a.interval)
    ctx.out.document(doc.data, _STATUS_KEYS)
    return _exit_for(doc)


def log(ctx: Context) -> int:
    """``GET {url}/{id}/log``, every page."""
    entries = list(ctx.action_client().iter_log(ctx.args.action_id, reverse_order=ctx.args.reverse))
    ctx.out.table(entries, ("time", "code", "description"))
    return 0


def cancel(ctx: Context) -> int:
    """``POST {url}/{id}/cancel``."""
    ctx.out.document(ctx.action_client().cancel(ctx.args.action_id).data, _STATUS_KEYS)
    return 0


def release(ctx: Context) -> int:
    """``POST {url}/{id}/release``."""
    ctx.out.document(ctx.action_client().release(ctx.args.action_id).data, _STATUS_KEYS)
    return 0


def resume(ctx: Context) -> int:
    """``POST {url}/{id}/resume``."""
    ctx.out.document(ctx.action_client().resume(ctx.args.action_id).data, _STATUS_KEYS)
    return 0
