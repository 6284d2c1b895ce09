"""``automate-lite flow ...``: flows on the Flows service, through :class:`automate_lite.FlowsClient`."""

from __future__ import annotations

import itertools
import os
from typing import Any

from ._context import Context, InputError, read_json_object

__all__ = ["deploy", "update", "get", "list_", "delete", "validate", "render", "run", "scope"]

FLOW_KEYS = ("id", "title", "subtitle", "description", "globus_auth_scope", "flow_owner", "keywords",
             "flow_viewers", "flow_starters", "flow_administrators", "created_at", "updated_at")
_FLOW_COLUMNS = ("id", "title", "flow_owner", "created_at")
_DOCUMENT_FIELDS = ("title", "subtitle", "description", "keywords", "input_schema", "flow_viewers",
                    "flow_starters", "flow_administrators", "subscription_id")


def _definition_document(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The definition, and any flow fields given beside it (``{"definition": ..., "title": ...}``)."""
    doc = read_json_object(text, "the definition", "with StartAt and States")
    if "definition" in doc and "States" not in doc:
        definition = doc["definition"]
        if not isinstance(definition, dict):
            raise InputError("'definition' in the flow document must be a JSON object with StartAt and States")
        return definition, {k: doc[k] for k in _DOCUMENT_FIELDS if k in doc}
    return doc, {}


def _fields(ctx: Context, extra: dict[str, Any]) -> dict[str, Any]:
    """Flow fields from the options, over those of the definition document."""
    a = ctx.args
    fields = dict(extra)
    for key in ("title", "subtitle", "description", "keywords", "flow_viewers", "flow_starters",
                "flow_administrators", "subscription_id"):
        value = getattr(a, key, None)
        if value is not None:
            fields[key] = value
    if a.input_schema is not None:
        fields["input_schema"] = read_json_object(a.input_schema, "--input-schema", "(a JSON schema)")
    return fields


def deploy(ctx: Context) -> int:
    """``POST /flows`` (after the local check of the definition unless ``--no-validate``)."""
    definition, extra = _definition_document(ctx.args.definition)
    fields = _fields(ctx, extra)
    title = fields.pop("title", None)
    if not title:
        raise InputError("a new flow needs a title: pass --title TITLE (or 'title' in the flow document)")
    validate = not ctx.args.no_validate
    flow = ctx.flows_client().deploy_flow(definition, title, validate_definition=validate,
                                          validate_schema=validate, **fields)
    ctx.out.document(flow.data, FLOW_KEYS)
    return 0


def update(ctx: Context) -> int:
    """``PUT /flows/{id}`` with only what was given."""
    a = ctx.args
    definition, extra = (None, {}) if a.definition is None else _definition_document(a.definition)
    fields = _fields(ctx, extra)
    if definition is None and not fields:
        raise InputError("nothing to change: pass --definition, --title or another field (see --help)")
    flow = ctx.flows_client().update_flow(a.flow_id, definition, validate_definition=not a.no_validate,
                                          validate_schema=not a.no_validate, **fields)
    ctx.out.document(flow.data, FLOW_KEYS)
    return 0


def get(ctx: Context) -> int:
    """``GET /flows/{id}``."""
    ctx.out.document(ctx.flows_client().get_flow(ctx.args.flow_id).data, FLOW_KEYS)
    return 0


def list_(ctx: Context) -> int:
    """``GET /flows`` (every page, or until ``--limit``)."""
    a = ctx.args
    if a.limit is not None and a.limit < 1:
        raise InputError(f"--limit must be 1 or more, got {a.limit}")
    kwargs: dict[str, Any] = {}
    if a.roles:
        kwargs["filter_roles"] = a.roles
    if a.fulltext:
        kwargs["filter_fulltext"] = a.fulltext
    flows = ctx.flows_client().iter_flows(**kwargs)
    rows = list(itertools.islice(flows, a.limit) if a.limit is not None else flows)
    ctx.out.table(rows, _FLOW_COLUMNS)
    return 0


def delete(ctx: Context) -> int:
    """``DELETE /flows/{id}``."""
    doc = ctx.flows_client().delete_flow(ctx.args.flow_id)
    ctx.out.line(f"deleted flow {ctx.args.flow_id}", doc.data if doc.data else {"id": ctx.args.flow_id, "deleted": True})
    return 0


def validate(ctx: Context) -> int:
    """The local check, then (unless ``--local``) ``POST /flows/validate``."""
    from ..definitions.validation import validate_flow_definition

    definition, extra = _definition_document(ctx.args.definition)
    validate_flow_definition(definition)  # FlowValidationError lists every problem
    if ctx.args.local:
        ctx.out.line("the definition is valid (local check)", {"valid": True, "checked": "local"})
        return 0
    schema = _fields(ctx, extra).get("input_schema")
    client = ctx.flows_client()
    doc = client.validate_flow(definition, schema) if schema is not None else client.validate_flow(definition)
    ctx.out.line("the definition is valid (local check and the Flows service)", doc.data)
    return 0


def render(ctx: Context) -> int:
    """Draw the definition (a file, JSON, or a flow id: ``GET /flows/{id}``), coloured by
    ``--run`` (``GET /runs/{id}/log``)."""
    from ..definitions.render import to_dot, to_mermaid

    a = ctx.args
    source = a.definition
    client = None
    if source == "-" or source.startswith("@") or source.lstrip().startswith("{") or os.path.isfile(source):
        definition, _ = _definition_document(source)
    else:
        client = ctx.flows_client()
        definition = client.get_flow(source)["definition"]
    log = None
    if a.run_id:
        client = client or ctx.flows_client()
        log = list(client.iter_run_logs(a.run_id))
    text = to_dot(definition, log) if a.picture == "dot" else to_mermaid(definition, log)
    if a.format == "json":  # only when asked: a picture is text meant for a file
        ctx.out.document({"format": a.picture, "text": text})
    else:
        print(text.rstrip("\n"))
    return 0


def run(ctx: Context) -> int:
    """``POST /flows/{id}/run``; with ``--watch``, follow it until it ends (see ``run watch``)."""
    from .runs import RUN_KEYS, finish_watch

    a = ctx.args
    body = read_json_object(a.input, "--input", "(the run's input)")
    client = ctx.flows_client()
    started = client.run_flow(a.flow_id, None, body, run_managers=a.run_managers, run_monitors=a.run_monitors,
                              label=a.label, tags=a.tags)
    if not a.watch:
        ctx.out.document(started.data, RUN_KEYS)
        return 0
    return finish_watch(ctx, client, str(started["run_id"]))


def scope(ctx: Context) -> int:
    """The flow's own scope, derived from its id (no request)."""
    from .._core.scopes import flow_scope

    value = flow_scope(ctx.args.flow_id)
    ctx.out.line(value, {"flow_id": ctx.args.flow_id, "scope": value})
    return 0
