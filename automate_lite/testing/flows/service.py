"""A loopback stand-in for the Globus Flows service (standard library only).

:class:`FlowsStub` serves the Flows API of ``/work/shared/API.md`` on ``127.0.0.1``::

    with FlowsStub() as flows:                       # auth off: one fixed caller
        flows.url                                    # http://127.0.0.1:PORT
        flows.state.runs_created                     # what tests read

    tokens = {"svc": "urn:globus:auth:identity:<uuid>"}      # service-scope tokens
    flow_tokens = {"run": "urn:globus:auth:identity:<uuid>"}  # any flow's own scope
    with FlowsStub(tokens=tokens, flow_tokens=flow_tokens) as flows:
        token = flows.issue_flow_token(flow_id, identity)     # one flow's scope only

Tokens
    A *service* token (``tokens``) is good for every route but running a flow; a
    *flow* token (``flow_tokens``, or one from :meth:`FlowsStub.issue_flow_token`) is
    good only for ``POST /flows/{id}/run`` and the legacy ``/flows/{fid}/{rid}/...``
    routes. ``/flows/{id}/run/dry-run``, ``/flows/{id}/validate_run`` and
    ``/runs/{id}/resume`` take either (globus-sdk resumes with the flow's scope).
    No or an unknown token: 401 ``AUTHENTICATION_ERROR``; the wrong kind, or a flow
    token of another flow: 403 ``MISSING_SCOPE``. With neither mapping given, auth is
    off and every caller is :data:`DEFAULT_IDENTITY`.

Runs execute their definition
    A run executes its flow's definition for real (:mod:`automate_lite.testing.runner`): every state
    type, the data rules of Globus Flows, Action states calling their ``ActionUrl``
    with automate-lite's ``AsyncActionClient`` (presenting ``action_token``), web
    inputs opened by ``CreateWebInput`` and answered through ``/web_inputs``. The
    runs share one event loop in a background thread, started and stopped with the
    server. Status, ``details`` and the run log follow the service (see the runner's
    docstring for the log codes and error names). Cancel stops the run and cancels
    the action in progress at its provider; resume continues an INACTIVE run (one
    waiting on an INACTIVE action; a run waiting for a web input needs its answer).

Scripted runs
    A run whose ``body`` holds a ``"_stub"`` object (see :class:`RunScript`), or any
    run of a stub made with ``execute=False``, does not execute its definition, e.g.
    ``{"_stub": {"active_s": 0.2, "outcome": "FAILED"}}``. It is ACTIVE for
    ``active_s`` seconds after it starts (or is resumed), then takes its outcome.
    Its status is computed from the clock on every read: no threads, no timers.

Choices made where API.md is silent
    * Cancelled runs end with status ``"ENDED"`` (the Flows status for a run that was
      cancelled), details code ``FlowCanceled`` and a ``FlowCanceled`` log entry;
      ``cancel_status="FAILED"`` switches to the older convention. Cancelling an
      ENDED run answers it again (200); a SUCCEEDED/FAILED one is 409.
    * Paging: ``per_page`` defaults to 20 and may be 1..50 (else 422); run logs take
      ``limit`` 1..100 (default 10). Markers are opaque offsets into the listing.
    * Default order: flows by creation (oldest first); runs newest first; both accept
      ``orderby`` ("field ASC|DESC", repeated or comma-separated; unknown field: 422).
    * ``"public"`` and ``"all_authenticated_users"`` in any principal list mean
      everyone. Flow-level ``run_managers``/``run_monitors`` act on every run of the flow.
    * Malformed or unknown ids in a path are both 404 ``NOT_FOUND``.
    * New flows and new runs answer 201; a replayed ``request_id`` answers 200.
    * A consent-required error carries ``error.code == "CONSENT_REQUIRED"`` beside the
      top-level ``"code": "ConsentRequired"``.
    * Web inputs follow globus-sdk 4: page key ``web_input_summaries`` with only a
      ``marker`` (null on the last page), respond with ``{"response": {"value": v}}``
      and get ``{"status": "ok"}``. Registered APIs: page key ``registered_apis`` with
      ``has_next_page``/``marker``; documents shaped like globus-sdk's test fixture.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Literal, Mapping, NoReturn, Sequence

from .._server import App, Reply, StubRequest, StubServer
from ..runner import FlowRunner, LiveRun

__all__ = [
    "FlowsStub",
    "FlowsState",
    "RunRecord",
    "RunScript",
    "Caller",
    "serve_flows",
    "flow_scope",
    "DEFAULT_IDENTITY",
    "DEFAULT_SUBSCRIPTION_ID",
    "FLOWS_SCOPE_PREFIX",
]

Json = Any
Doc = dict[str, Any]

#: Who calls when auth is off.
DEFAULT_IDENTITY = "urn:globus:auth:identity:11111111-1111-4111-8111-111111111111"
#: What ``subscription_id: "DEFAULT"`` resolves to.
DEFAULT_SUBSCRIPTION_ID = "22222222-2222-4222-8222-222222222222"
#: The Flows service's resource server; its scopes end in all, manage_flows, run, ...
FLOWS_SCOPE_PREFIX = "https://auth.globus.org/scopes/eec9b274-0c81-4334-bdc2-54e90e689b9a/"

_EVERYONE = frozenset({"public", "all_authenticated_users"})
#: Web input types the stand-in opens (a Selection answers with one option; Text with a string).
_WEB_INPUT_TYPES = frozenset({"selection", "text"})
_URN_PREFIXES = ("urn:globus:auth:identity:", "urn:globus:groups:id:")
_RUN_STATUSES = ("ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED", "ENDED")
_OUTCOMES = ("SUCCEEDED", "FAILED", "INACTIVE")
_NOTIFY_STATUSES = ("INACTIVE", "SUCCEEDED", "FAILED")
_PER_PAGE_DEFAULT = 20
_PER_PAGE_MAX = 50
_LOG_LIMIT_DEFAULT = 10
_LOG_LIMIT_MAX = 100

# Cumulative role sets: holding a role implies the weaker ones, so both the legacy
# "minimum role" filter_role and the modern any-of filter_roles are a set intersection.
_FLOW_ROLE_ORDER = ("flow_owner", "flow_administrator", "flow_starter", "flow_viewer")
_FLOW_ROLE_ALIASES = {
    "owner": "flow_owner",
    "administrator": "flow_administrator",
    "admin": "flow_administrator",
    "starter": "flow_starter",
    "viewer": "flow_viewer",
    "run_manager": "run_manager",
    "run_monitor": "run_monitor",
}
_RUN_ROLE_ORDER = ("run_owner", "run_manager", "run_monitor")
_RUN_ROLE_ALIASES = {
    "owner": "run_owner",
    "manager": "run_manager",
    "monitor": "run_monitor",
    "flow_run_manager": "flow_run_manager",
    "flow_run_monitor": "flow_run_monitor",
}

# Keys a flow document takes on create / update (beyond title and definition).
_FLOW_LIST_FIELDS = (
    "keywords",
    "flow_viewers",
    "flow_starters",
    "flow_administrators",
    "run_managers",
    "run_monitors",
)
_FLOW_TEXT_FIELDS = ("subtitle", "description")
_BATCH_FIELDS = ("tags", "run_managers", "run_monitors")
# What a run remembers of its flow (for include_flow_description after the flow changes).
_SNAPSHOT_FIELDS = (
    "id",
    "title",
    "subtitle",
    "description",
    "keywords",
    "flow_owner",
    "globus_auth_scope",
    "created_at",
    "updated_at",
)


def flow_scope(flow_id: str) -> str:
    """The scope string of a flow: what running it takes a token for."""
    return f"https://auth.globus.org/scopes/{flow_id}/flow_{flow_id.replace('-', '_')}_user"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def _new_id() -> str:
    return str(uuid.uuid4())


def _as_urn(identity: str) -> str:
    """Accept a bare identity id where a URN is expected (less noise in tests)."""
    return identity if identity.startswith("urn:") else "urn:globus:auth:identity:" + identity


# ----------------------------------------------------------------------------- errors


class _Fail(Exception):
    """Raised by handlers; the route wrapper turns it into a Flows error reply."""

    def __init__(self, status: int, code: str, detail: Json, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.extra = dict(extra or {})

    def reply(self) -> Reply:
        body: Doc = {"error": {"code": self.code, "detail": self.detail}, "debug_id": _new_id()}
        body.update(self.extra)
        headers = {"WWW-Authenticate": 'Bearer realm="flows"'} if self.status == 401 else None
        return Reply.json(body, self.status, headers)


def _unprocessable(loc: Sequence[str | int], msg: str, type_: str = "value_error") -> NoReturn:
    raise _Fail(422, "UNPROCESSABLE_ENTITY", [{"loc": list(loc), "msg": msg, "type": type_}])


def _not_found(kind: str, ident: str) -> NoReturn:
    raise _Fail(404, "NOT_FOUND", f"No {kind} exists with id value {ident}")


def _forbidden(detail: str) -> NoReturn:
    raise _Fail(403, "FORBIDDEN", detail)


def _conflict(detail: str) -> NoReturn:
    raise _Fail(409, "STATE_CONFLICT", detail)


def _definition_problems(definition: Json, loc_prefix: Sequence[str]) -> list[Doc]:
    """Detail items for an invalid definition (empty when valid)."""
    # Imported here: the stand-ins load without the package until a definition is checked.
    from automate_lite.definitions.validation import flow_definition_problems

    return [
        {"loc": [*loc_prefix, *problem.loc], "msg": problem.message, "type": "value_error"}
        for problem in flow_definition_problems(definition)
    ]


# ----------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Caller:
    """Who is calling, and with which kind of token."""

    identity: str
    principals: frozenset[str]  # the identity and its groups
    kind: Literal["service", "flow", "any"]  # "any": auth is off
    flow_id: str | None = None  # a flow token bound to one flow; None: every flow
    scopes: frozenset[str] | None = None  # a service token's scope names; None: all of them


@dataclass(frozen=True)
class RunScript:
    """The ``"_stub"`` controls a run body may carry (all optional).

    Attributes:
        active_s: seconds the run stays ACTIVE after it starts and after each resume
            (default: the stub's ``default_active_s``, 0.05).
        outcome: what it becomes then: ``"SUCCEEDED"`` (default), ``"FAILED"`` or
            ``"INACTIVE"``.
        resume_outcome: what a resumed run becomes after ``active_s`` (default
            ``"SUCCEEDED"``; ``"INACTIVE"`` makes it wait again).
        passes: how many ``PassCompleted`` log entries each ACTIVE period writes
            (default 1; make it large to exercise log paging).
        output: the ``details.output`` of a finished run (default: the body without
            ``"_stub"``).
        details: merged into the details of a finished (SUCCEEDED/FAILED) run.
        inactive_details: the details of an INACTIVE run (default: a
            ``ConsentRequired`` wait on a transfer scope).
    """

    active_s: float
    outcome: str = "SUCCEEDED"
    resume_outcome: str = "SUCCEEDED"
    passes: int = 1
    output: Json = None
    has_output: bool = False
    details: Doc = field(default_factory=dict)
    inactive_details: Doc | None = None


@dataclass
class RunRecord:
    """One run as the stub keeps it; documents are rendered from it on each read."""

    run_id: str
    seq: int
    flow_id: str
    flow_title: str
    flow_snapshot: Doc  # the flow's descriptive fields when the run started
    definition: Json
    input_schema: Json
    owner: str
    body: Doc
    label: str | None
    tags: list[str]
    run_managers: list[str]
    run_monitors: list[str]
    notification_policy: Doc
    request_id: str | None
    fingerprint: str
    script: RunScript | None  # None: the definition is executed (see ``live``)
    start: float
    phases: list[tuple[float, str]]  # (start of an ACTIVE period, what it ends as)
    ended_at: float | None = None  # when it was cancelled
    live: LiveRun | None = None  # the runner's record of an executed run

    def status(self, now: float) -> str:
        """ACTIVE, INACTIVE, SUCCEEDED, FAILED or ``"ENDED"`` (cancelled), at ``now``."""
        if self.ended_at is not None:
            return "ENDED"
        if self.live is not None:
            return self.live.status
        assert self.script is not None
        begun, outcome = self.phases[-1]
        return "ACTIVE" if now < begun + self.script.active_s else outcome

    def completion(self, now: float) -> float | None:
        """When the run finished, if it has."""
        if self.ended_at is not None:
            return self.ended_at
        if self.live is not None:
            return self.live.completed_at
        assert self.script is not None
        status = self.status(now)
        if status in ("SUCCEEDED", "FAILED"):
            return self.phases[-1][0] + self.script.active_s
        return None


@dataclass
class FlowsState:
    """Everything the stub knows; tests read it (take ``lock`` to read consistently).

    Attributes:
        flows: flow id -> flow record (the document fields, without ``user_role``).
        runs: run id -> :class:`RunRecord` (released runs are gone).
        runs_created: how many runs were really created (not replays or dry runs).
        run_attempts: how many ``POST /flows/{id}/run`` calls reached the stub.
        requests: every request received, in order.
        request_ids: ``(identity, flow_id, request_id)`` -> run id, for idempotent runs.
        web_inputs: web input id -> record (seed with :meth:`FlowsStub.add_web_input`).
        registered_apis: registered API id -> document.
        consent_required: flow ids whose next run attempt answers ConsentRequired.
        consented: ``(identity, flow_id)`` pairs that got past ``consent_required_once``.
    """

    flows: dict[str, Doc] = field(default_factory=dict)
    runs: dict[str, RunRecord] = field(default_factory=dict)
    runs_created: int = 0
    run_attempts: int = 0
    requests: list[StubRequest] = field(default_factory=list)
    request_ids: dict[tuple[str, str, str], str] = field(default_factory=dict)
    web_inputs: dict[str, Doc] = field(default_factory=dict)
    registered_apis: dict[str, Doc] = field(default_factory=dict)
    consent_required: set[str] = field(default_factory=set)
    consented: set[tuple[str, str]] = field(default_factory=set)
    lock: threading.RLock = field(default_factory=threading.RLock)
    seq: int = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


# ----------------------------------------------------------------------------- parsing


def _json_object(req: StubRequest, *, optional: bool = False) -> Doc:
    """The request body as a JSON object, or 422."""
    try:
        data = req.json()
    except (ValueError, UnicodeDecodeError):
        _unprocessable(["body"], "the body is not valid JSON", "value_error.jsondecode")
    if data is None and optional:
        return {}
    if not isinstance(data, dict):
        _unprocessable(["body"], "the body must be a JSON object", "type_error.dict")
    return data


def _str_field(doc: Doc, key: str, loc: Sequence[str], *, max_len: int, allow_empty: bool = True) -> str:
    value = doc[key]
    if not isinstance(value, str):
        _unprocessable([*loc, key], "str type expected", "type_error.str")
    if len(value) > max_len or (not allow_empty and not value):
        _unprocessable([*loc, key], f"must be {0 if allow_empty else 1}..{max_len} characters")
    return value


def _str_list(value: Json, loc: Sequence[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _unprocessable(list(loc), "value is not a valid list of strings", "type_error.list")
    return list(value)


def _principals(value: Json, loc: Sequence[str], *, everyone: bool) -> list[str]:
    """A list of principal URNs (plus "public"/"all_authenticated_users" if ``everyone``)."""
    items = _str_list(value, loc)
    for i, item in enumerate(items):
        if everyone and item in _EVERYONE:
            continue
        if not item.startswith(_URN_PREFIXES):
            _unprocessable([*loc, i], f"{item!r} is not a Globus identity or group URN")
    return list(dict.fromkeys(items))  # unique, order kept


def _comma_args(req: StubRequest, *names: str) -> list[str] | None:
    """Values of repeated and/or comma-separated query args (None when absent)."""
    values: list[str] = []
    seen = False
    for name in names:
        for raw in req.query.get(name, []):
            seen = True
            values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values if seen else None


def _int_arg(req: StubRequest, name: str, default: int, low: int, high: int) -> int:
    raw = req.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        _unprocessable(["query", name], "value is not a valid integer", "type_error.integer")
    if not low <= value <= high:
        _unprocessable(["query", name], f"must be between {low} and {high}")
    return value


def _bool_arg(req: StubRequest, name: str) -> bool:
    raw = (req.arg(name) or "").strip().lower()
    if raw in ("", "false", "0", "no", "off"):
        return False
    if raw in ("true", "1", "yes", "on"):
        return True
    _unprocessable(["query", name], "value could not be parsed to a boolean", "type_error.bool")


def _parse_time(text: str, name: str) -> float:
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        _unprocessable(["query", name], f"{text!r} is not an ISO 8601 date/time")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _time_range(req: StubRequest, name: str) -> tuple[float | None, float | None] | None:
    """``"DT1,DT2"`` -> [DT1, DT2); either side may be empty; no comma means ``"DT,"``."""
    raw = req.arg(name)
    if raw is None or raw.strip() == "":
        return None
    low_s, _, high_s = raw.partition(",")
    low = _parse_time(low_s, name) if low_s.strip() else None
    high = _parse_time(high_s, name) if high_s.strip() else None
    return low, high


def _in_range(ts: float | None, bounds: tuple[float | None, float | None]) -> bool:
    if ts is None:
        return False
    low, high = bounds
    return (low is None or ts >= low) and (high is None or ts < high)


def _encode_marker(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def _decode_marker(marker: str, name: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
        offset = json.loads(raw)["offset"]
        if isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError, binascii.Error):
        pass
    _unprocessable(["query", name], "invalid marker")


def _sort_key(value: Json) -> tuple[int, float, str]:
    # Numbers before strings before everything else; None last (first when DESC).
    if value is None:
        return (3, 0.0, "")
    if isinstance(value, (bool, int, float)):
        return (0, float(value), "")
    if isinstance(value, str):
        return (1, 0.0, value.casefold())
    return (2, 0.0, json.dumps(value, sort_keys=True))


def _order(req: StubRequest, docs: list[Doc]) -> list[Doc]:
    """Apply ``orderby`` ("field [ASC|DESC]", repeated or comma-separated)."""
    criteria = _comma_args(req, "orderby") or []
    parsed: list[tuple[str, bool]] = []
    for criterion in criteria:
        words = criterion.split()
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if len(words) > 2 or direction not in ("ASC", "DESC"):
            _unprocessable(["query", "orderby"], f"{criterion!r} is not 'FIELD ASC' or 'FIELD DESC'")
        if docs and not any(words[0] in d for d in docs):
            _unprocessable(["query", "orderby"], f"cannot order by {words[0]!r}")
        parsed.append((words[0], direction == "DESC"))
    # Stable sorts, last criterion first, give a lexicographic multi-key order.
    for key, desc in reversed(parsed):
        docs = sorted(docs, key=lambda d: _sort_key(d.get(key)), reverse=desc)
    return docs


def _page(
    req: StubRequest,
    docs: list[Doc],
    key: str,
    *,
    per_page_arg: str = "per_page",
    default: int = _PER_PAGE_DEFAULT,
    maximum: int = _PER_PAGE_MAX,
    marker_args: tuple[str, ...] = ("marker",),
    has_next: bool = True,
) -> Doc:
    """One page of ``docs``: ``{key: [...], "limit", "has_next_page", "marker"}``."""
    size = _int_arg(req, per_page_arg, default, 1, maximum)
    offset = 0
    for name in marker_args:
        raw = req.arg(name)
        if raw:
            offset = _decode_marker(raw, name)
            break
    chunk = docs[offset : offset + size]
    more = offset + size < len(docs)
    page: Doc = {key: chunk}
    if has_next:
        page["limit"] = size
        page["has_next_page"] = more
    page["marker"] = _encode_marker(offset + size) if more else None
    return page


def _parse_script(body: Doc, default_active_s: float) -> RunScript:
    """The ``_stub`` controls of a run body (422 when malformed)."""
    raw = body.get("_stub", {})
    loc = ["body", "body", "_stub"]
    if not isinstance(raw, dict):
        _unprocessable(loc, "_stub must be an object", "type_error.dict")
    known = {"active_s", "outcome", "resume_outcome", "passes", "output", "details", "inactive_details"}
    for key in raw:
        if key not in known:
            _unprocessable([*loc, key], f"unknown stub control; use one of {sorted(known)}")
    active_s = raw.get("active_s", default_active_s)
    if isinstance(active_s, bool) or not isinstance(active_s, (int, float)) or active_s < 0:
        _unprocessable([*loc, "active_s"], "must be a number >= 0")
    for name in ("outcome", "resume_outcome"):
        if raw.get(name, "SUCCEEDED") not in _OUTCOMES:
            _unprocessable([*loc, name], f"must be one of {list(_OUTCOMES)}")
    passes = raw.get("passes", 1)
    if isinstance(passes, bool) or not isinstance(passes, int) or not 0 <= passes <= 10_000:
        _unprocessable([*loc, "passes"], "must be an integer 0..10000")
    for name in ("details", "inactive_details"):
        if name in raw and not isinstance(raw[name], dict):
            _unprocessable([*loc, name], "must be an object", "type_error.dict")
    return RunScript(
        active_s=float(active_s),
        outcome=raw.get("outcome", "SUCCEEDED"),
        resume_outcome=raw.get("resume_outcome", "SUCCEEDED"),
        passes=passes,
        output=raw.get("output"),
        has_output="output" in raw,
        details=dict(raw.get("details", {})),
        inactive_details=raw.get("inactive_details"),
    )


# ----------------------------------------------------------------------------- the stub


_Needs = Literal["service", "flow", "either"]

#: The service scope each route takes (as the Flows service and globus-automate-client's
#: authorizer_callback use them); a broader scope covers the narrower one.
_ROUTE_SCOPES: dict[tuple[str, str], str] = {
    **{("GET", p): "view_flows" for p in ("/flows", "/flows/{flow_id}")},
    **{(m, p): "manage_flows" for m, p in (
        ("POST", "/flows"), ("POST", "/flows/validate"), ("POST", "/flows/dry-run"),
        ("PUT", "/flows/{flow_id}"), ("DELETE", "/flows/{flow_id}"))},
    **{("GET", p): "run_status" for p in (
        "/runs", "/runs/{run_id}", "/runs/{run_id}/log", "/runs/{run_id}/definition", "/flows/{flow_id}/runs")},
    **{(m, p): "run_manage" for m, p in (
        ("PUT", "/runs/{run_id}"), ("POST", "/runs/{run_id}/cancel"), ("POST", "/runs/{run_id}/release"),
        ("POST", "/batch/runs"))},
}
_COVERS = {"all": {"view_flows", "manage_flows", "run_status", "run_manage"},
           "manage_flows": {"view_flows"}, "run_manage": {"run_status"}}


class FlowsStub:
    """The Flows service on ``127.0.0.1``: ``.url``, ``.state``, ``with`` support.

    Args:
        tokens: service-scope bearer tokens -> identity (a URN, or a bare id that gets
            the ``urn:globus:auth:identity:`` prefix).
        flow_tokens: flow-scope tokens -> identity, good for every flow's scope.
        groups: identity -> group URNs it belongs to (for group principals).
        consent_required_once: the first run attempt of each identity on each flow
            answers 403 ConsentRequired (see also :meth:`require_consent`).
        execute: run definitions for real (default); False makes every run scripted.
        action_token: the bearer token Action states present to action providers
            (the flow's run-as token); None sends none.
        action_poll: (first, longest) delay in seconds between polls of an action.
        default_active_s: how long a scripted run stays ACTIVE when its ``_stub`` says nothing.
        cancel_status: status of a cancelled run, ``"ENDED"`` or ``"FAILED"``.
        seed_registered_apis: start with two example registered APIs.
        clock: the time source (``time.time``); a test may pass its own.
        host, port: where to listen (port 0: a free one).
        action_urls: where each ``ActionUrl`` is really served: a function of the URL
            (e.g. ``LocalProviders.map_url``) or a mapping; None runs them as written.
    """

    def __init__(
        self,
        *,
        tokens: Mapping[str, str] | None = None,
        flow_tokens: Mapping[str, str] | None = None,
        groups: Mapping[str, Iterable[str]] | None = None,
        consent_required_once: bool = False,
        execute: bool = True,
        action_token: str | None = None,
        action_poll: tuple[float, float] = (0.02, 0.5),
        default_active_s: float = 0.05,
        cancel_status: Literal["ENDED", "FAILED"] = "ENDED",
        seed_registered_apis: bool = True,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        action_urls: Callable[[str], str] | Mapping[str, str] | None = None,
    ) -> None:
        self.auth_enabled = tokens is not None or flow_tokens is not None
        self._tokens = {t: _as_urn(i) for t, i in (tokens or {}).items()}
        # flow token -> (identity, flow id or None for every flow)
        self._flow_tokens: dict[str, tuple[str, str | None]] = {
            t: (_as_urn(i), None) for t, i in (flow_tokens or {}).items()
        }
        self._groups = {_as_urn(i): frozenset(g) for i, g in (groups or {}).items()}
        self.consent_required_once = consent_required_once
        self.execute = execute
        self.default_active_s = default_active_s
        self.cancel_status = cancel_status
        self._clock = clock
        self.state = FlowsState()
        self._users: dict[str, Doc] = {}
        self._scoped_tokens: dict[str, tuple[str, frozenset[str]]] = {}
        self._role_tokens: dict[str, str] = {"User": action_token} if action_token else {}
        self.app = App()
        self._register_routes()
        if seed_registered_apis:
            self._seed_registered_apis()
        self.server = StubServer(self.app, host, port)
        self.runner = FlowRunner(
            self, action_token=action_token, poll_initial_s=action_poll[0], poll_max_s=action_poll[1]
        )
        if action_urls is not None:
            self.runner.action_url_map = action_urls if callable(action_urls) else (lambda u: action_urls.get(u, u))

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return self.server.url

    @property
    def port(self) -> int:
        """The port bound."""
        return self.server.port

    def start(self) -> "FlowsStub":
        """Serve in a background thread, with the runner's event loop; returns ``self``."""
        self.runner.start()
        self.server.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (what ``python -m automate_lite.testing`` calls)."""
        self.runner.start()
        self.server.serve_forever()

    def stop(self) -> None:
        """Stop serving, close the socket, cancel the runs still going and stop the runner."""
        self.server.stop()
        self.runner.stop()

    # -- what the runner needs (automate_lite.testing.runner.RunHost) -----------------------------------

    @property
    def lock(self) -> threading.RLock:
        """The lock every request and the runner take to read or change the state."""
        return self.state.lock

    def now(self) -> float:
        """The stub's clock."""
        return self._clock()

    def open_web_input(self, run: LiveRun, state_name: str, spec: Doc) -> Doc:
        """Open a web input for a CreateWebInput state of ``run`` (ValueError when malformed).

        Takes the documented Parameters (``InputType``, ``Context`` {``Title``,
        ``PresentationStyle``, ``Text`` | ``Rows`` [{``Field``, ``Value``}]}, ``Options``
        [{``Value``, ``Label``, ``Description``}], ``RespondentUrns``, ``ViewerUrns``) and
        the stand-in's older lowercase form (``title``, ``input_type``, ``options`` labels,
        ``respondents``, ``viewers``).
        """
        raw_context = spec.get("Context")
        context: Doc | None = None
        if raw_context is not None:
            if not isinstance(raw_context, dict):
                raise ValueError("Context must be an object (Title, PresentationStyle, Text or Rows)")
            context = {"title": raw_context.get("Title", state_name),
                       "presentation_style": str(raw_context.get("PresentationStyle", "Text")).lower()}
            if "Text" in raw_context:
                context["text"] = raw_context["Text"]
            rows = raw_context.get("Rows")
            if rows is not None:
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise ValueError("Context.Rows must be a list of {Field, Value} objects")
                context["rows"] = [{"field": r.get("Field"), "value": r.get("Value")} for r in rows]
        title = context["title"] if context else spec.get("title", state_name)
        options = spec.get("Options", spec.get("options"))
        raw_type = spec.get("InputType", spec.get("input_type", "selection" if options is not None else "text"))
        respondents = spec.get("RespondentUrns", spec.get("respondents")) or [run.owner]
        viewers = spec.get("ViewerUrns", spec.get("viewers")) or []
        if not isinstance(title, str) or not isinstance(raw_type, str):
            raise ValueError("the title and InputType must be strings")
        input_type = raw_type.lower()
        if input_type not in _WEB_INPUT_TYPES:
            raise ValueError(f"InputType {raw_type!r} is not one of {', '.join(sorted(_WEB_INPUT_TYPES))}")
        if options is not None:
            if not isinstance(options, list) or not all(
                isinstance(o, str) or (isinstance(o, dict) and "Value" in o) for o in options
            ):
                raise ValueError("Options must be a list of {Value, Label, Description} objects")
        if input_type == "selection" and not options:
            raise ValueError("a Selection web input needs Options")
        for name, value in (("RespondentUrns", respondents), ("ViewerUrns", viewers)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a list of identity or group URNs")
        return self.add_web_input(
            title=title, input_type=input_type, options=options, flow_id=run.flow_id, run_id=run.run_id,
            viewers=viewers, respondents=respondents, context=context, creator=run.owner,
        )

    def web_input_record(self, web_input_id: str) -> Doc | None:
        """A web input's full document (None when there is no such input)."""
        with self.state.lock:
            record = self.state.web_inputs.get(web_input_id)
            if record is None:
                return None
            doc = copy.deepcopy(self._render_web_input(record, None))
            if doc.get("response") is not None:
                value = doc["response"].get("value")
                doc["response"]["response"] = record["_values"].get(value, value)
            return doc

    def registered_api(self, api_id: str) -> Doc | None:
        """The registered API ``api_id`` (for Handler {Type: RegisteredAPI} states), or None."""
        with self.state.lock:
            doc = self.state.registered_apis.get(api_id)
            return None if doc is None else copy.deepcopy(doc)

    def set_user(self, identity: str, *, username: str | None = None, email: str | None = None,
                 identities: Sequence[str] = ()) -> None:
        """Say who ``identity`` is: what ``$._context`` shows in its runs (username, email, linked identities)."""
        urn = _as_urn(identity)
        with self.state.lock:
            self._users[urn] = {
                "username": username, "email": email,
                "identities": [urn, *(_as_urn(i) for i in identities if _as_urn(i) != urn)],
            }

    def add_scoped_token(self, token: str, identity: str, scopes: Iterable[str]) -> None:
        """Accept ``token`` as a service token of ``identity`` holding only ``scopes``.

        Scopes are the Flows service's scope names (``all``, ``manage_flows``,
        ``view_flows``, ``run_status``, ``run_manage``; full scope strings work too).
        Routes then answer 403 MISSING_SCOPE without the scope they take, so a test can
        see which token a client method uses. Tokens given as ``tokens`` hold ``all``.
        """
        names = frozenset(s.rsplit("/", 1)[-1] for s in scopes)
        with self.state.lock:
            self._scoped_tokens[token] = (_as_urn(identity), names)
            self.auth_enabled = True

    def add_run_as_token(self, role: str, token: str) -> None:
        """Give runs a token for the RunAs role ``role`` ("User" is the run's owner).

        A state with ``RunAs`` naming a role that has no token fails with ActionUnableToRun.
        """
        with self.state.lock:
            self._role_tokens[role] = token

    def __enter__(self) -> "FlowsStub":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test helpers --------------------------------------------------------------------

    def add_token(self, token: str, identity: str) -> None:
        """Accept ``token`` as a service token of ``identity`` from now on (turns auth on)."""
        with self.state.lock:
            self._tokens[token] = _as_urn(identity)
            self.auth_enabled = True

    def issue_flow_token(self, flow_id: str, identity: str, token: str | None = None) -> str:
        """Register (and return) a token for one flow's scope only, owned by ``identity``.

        It only matters when auth is on (``tokens`` or ``flow_tokens`` given).
        """
        token = token or f"flow-{flow_id}-{uuid.uuid4().hex}"
        with self.state.lock:
            self._flow_tokens[token] = (_as_urn(identity), flow_id)
        return token

    def require_consent(self, flow_id: str) -> None:
        """Make the next run attempt of ``flow_id`` (by anyone) answer ConsentRequired."""
        with self.state.lock:
            self.state.consent_required.add(flow_id)

    def add_web_input(
        self,
        *,
        title: str = "Approve?",
        input_type: str = "selection",
        options: Sequence[str | Mapping[str, Any]] | None = None,
        flow_id: str | None = None,
        run_id: str | None = None,
        viewers: Sequence[str] = (),
        respondents: Sequence[str] = ("public",),
        status: Literal["open", "closed"] = "open",
        context: Mapping[str, Any] | None = None,
        creator: str | None = None,
    ) -> Doc:
        """Seed a web input and return its document (as its respondent would see it).

        ``options`` are labels, or ``{Value, Label, Description}`` objects, of a
        ``selection`` input (default Approve/Reject); each gets an ``option_id``, and a
        response must name one. Other input types take any value. The flow/run
        references are filled from the run or flow if they exist.
        """
        now = self._clock()
        with self.state.lock:
            run = self.state.runs.get(run_id or "")
            flow_id = flow_id or (run.flow_id if run else None)
            flow = self.state.flows.get(flow_id or "")
            raw: list[str | Mapping[str, Any]] = (
                list(options) if options is not None else (["Approve", "Reject"] if input_type == "selection" else [])
            )
            rendered: list[Doc] = []
            values: dict[str, Any] = {}
            for opt in raw:
                option_id = _new_id()
                if isinstance(opt, str):
                    rendered.append({"option_id": option_id, "label": opt})
                    values[option_id] = opt
                else:
                    value = opt.get("Value")
                    rendered.append({"option_id": option_id, "label": opt.get("Label", str(value)),
                                     "description": opt.get("Description")})
                    values[option_id] = value
            schema: Doc = {"$schema": "http://json-schema.org/draft-07/schema", "title": title}
            if input_type == "selection":
                schema.update(type="string", oneOf=[
                    {"const": o["option_id"], "title": o["label"], **({"description": o["description"]}
                                                                        if o.get("description") else {})}
                    for o in rendered])
            else:
                schema["type"] = "string"
            viewer_urns = [_as_urn(v) if v not in _EVERYONE else v for v in viewers]
            respondent_urns = [_as_urn(r) if r not in _EVERYONE else r for r in respondents]
            record: Doc = {
                "id": _new_id(),
                "status": status,
                "input_type": input_type,
                "input_schema": schema,
                "title": title,
                "context": dict(context) if context is not None else {"title": title, "presentation_style": "text"},
                "flow": {"id": flow_id, "title": flow["title"] if flow else (run.flow_title if run else None)},
                "run": {"id": run_id, "label": run.label if run else None},
                "options": rendered,
                "roles": {"viewer_urns": viewer_urns, "respondent_urns": respondent_urns},
                "creator_urn": creator or (run.owner if run else None),
                "created_timestamp": _iso(now),
                "edited_timestamp": _iso(now),
                "closed_timestamp": _iso(now) if status == "closed" else None,
                "response": None,
                "_viewers": viewer_urns,
                "_respondents": respondent_urns,
                "_values": values,
            }
            self.state.web_inputs[record["id"]] = record
            return self._render_web_input(record, None)

    def add_registered_api(
        self,
        name: str,
        *,
        description: str = "",
        owners: Sequence[str] = (DEFAULT_IDENTITY,),
        administrators: Sequence[str] = (),
        viewers: Sequence[str] = ("public",),
        url: str = "https://api.example.org/v1/items/{item_id}",
        method: str = "get",
    ) -> Doc:
        """Seed a registered API (shaped like globus-sdk's test fixture) and return it."""
        stamp = _iso(self._clock())
        doc: Doc = {
            "id": _new_id(),
            "name": name,
            "description": description,
            "roles": {
                "owners": [_as_urn(o) for o in owners],
                "administrators": [_as_urn(a) for a in administrators],
                "viewers": [v if v in _EVERYONE else _as_urn(v) for v in viewers],
            },
            "target": {
                "type": "openapi",
                "openapi_version": "3.1",
                "destination": {"method": method, "url": url},
                "specification": {"summary": name, "responses": {"200": {"description": "OK"}}},
                "transforms": None,
                "components": {},
            },
            "state_input_schema": {"type": "object", "properties": {}},
            "status": "ACTIVE",
            "subscription_id": None,
            "created_timestamp": stamp,
            "edited_timestamp": None,
            "updated_timestamp": stamp,
            "scheduled_deletion_timestamp": None,
        }
        with self.state.lock:
            self.state.registered_apis[doc["id"]] = doc
        return doc

    def _seed_registered_apis(self) -> None:
        self.add_registered_api("example-get-item", description="Fetch one item by id")
        self.add_registered_api(
            "example-create-item",
            description="Create an item",
            url="https://api.example.org/v1/items",
            method="post",
        )

    # -- plumbing ------------------------------------------------------------------------

    def _route(self, method: str, pattern: str, needs: _Needs, fn: Callable[..., Reply]) -> None:
        """Register ``fn(req, caller, now, **path_args)`` behind auth, lock and error mapping."""

        required = _ROUTE_SCOPES.get((method, pattern))

        def handler(req: StubRequest, **kwargs: str) -> Reply:
            with self.state.lock:
                # Handlers run in server threads; one lock makes each request atomic.
                self.state.requests.append(req)
                try:
                    caller = self._authenticate(req, needs, kwargs.get("flow_id"))
                    if required is not None and caller.kind == "service" and caller.scopes is not None and not any(
                        required == held or required in _COVERS.get(held, ()) for held in caller.scopes
                    ):
                        raise _Fail(403, "MISSING_SCOPE",
                                    f"This operation needs a token for the scope {FLOWS_SCOPE_PREFIX}{required}")
                    return fn(req, caller, self._clock(), **kwargs)
                except _Fail as fail:
                    return fail.reply()

        self.app.add(method, pattern, handler)

    def _authenticate(self, req: StubRequest, needs: _Needs, flow_id: str | None) -> Caller:
        if not self.auth_enabled:
            return Caller(DEFAULT_IDENTITY, self._principals_of(DEFAULT_IDENTITY), "any")
        token = req.bearer_token
        if not token:
            raise _Fail(401, "AUTHENTICATION_ERROR", "No bearer token was given (Authorization: Bearer ...)")
        if token in self._scoped_tokens:
            identity, scopes = self._scoped_tokens[token]
            caller = Caller(identity, self._principals_of(identity), "service", scopes=scopes)
        elif token in self._tokens:
            identity = self._tokens[token]
            caller = Caller(identity, self._principals_of(identity), "service")
        elif token in self._flow_tokens:
            identity, bound = self._flow_tokens[token]
            caller = Caller(identity, self._principals_of(identity), "flow", bound)
        else:
            raise _Fail(401, "AUTHENTICATION_ERROR", "The bearer token is not valid (unknown, expired or revoked)")
        if needs == "service" and caller.kind == "flow":
            raise _Fail(
                403,
                "MISSING_SCOPE",
                f"This operation needs a token for a Flows service scope ({FLOWS_SCOPE_PREFIX}...), "
                "not for a flow's own scope",
            )
        if needs == "flow" and caller.kind == "service":
            scope = flow_scope(flow_id) if flow_id else "the flow's scope"
            raise _Fail(403, "MISSING_SCOPE", f"This operation needs a token for the flow's own scope: {scope}")
        if flow_id is not None and caller.kind == "flow" and caller.flow_id not in (None, flow_id):
            raise _Fail(403, "MISSING_SCOPE", f"The token is not valid for the scope {flow_scope(flow_id)}")
        return caller

    def _principals_of(self, identity: str) -> frozenset[str]:
        return frozenset({identity, *self._groups.get(identity, ())})

    # -- flows ---------------------------------------------------------------------------

    def _flow_roles(self, flow: Doc, caller: Caller) -> set[str]:
        p = caller.principals
        roles: set[str] = set()
        if flow["flow_owner"] in p:
            roles.update(_FLOW_ROLE_ORDER)
        if p.intersection(flow["flow_administrators"]):
            roles.update(("flow_administrator", "flow_starter", "flow_viewer"))
        if p.intersection(flow["flow_starters"]) or _EVERYONE.intersection(flow["flow_starters"]):
            roles.update(("flow_starter", "flow_viewer"))
        if p.intersection(flow["flow_viewers"]) or _EVERYONE.intersection(flow["flow_viewers"]):
            roles.add("flow_viewer")
        if p.intersection(flow["run_managers"]):
            roles.add("run_manager")
        if p.intersection(flow["run_monitors"]):
            roles.add("run_monitor")
        return roles

    def _visible_flow(self, flow_id: str, caller: Caller) -> tuple[Doc, set[str]]:
        """The flow and the caller's roles on it; 404 when it is not there for them."""
        flow = self.state.flows.get(flow_id)
        if flow is None:
            _not_found("Flow", flow_id)
        roles = self._flow_roles(flow, caller)
        if not roles.intersection(_FLOW_ROLE_ORDER):
            _not_found("Flow", flow_id)
        return flow, roles

    def _flow_doc(self, flow: Doc, caller: Caller) -> Doc:
        doc = dict(flow)
        roles = self._flow_roles(flow, caller)
        doc["user_role"] = next((r for r in _FLOW_ROLE_ORDER if r in roles), None)
        doc["action_url"] = f"{self.url}/flows/{flow['id']}"
        return doc

    def _new_flow(self, data: Doc, caller: Caller, now: float) -> Doc:
        """Validate a create body and build the flow record (not stored)."""
        for key in ("title", "definition"):
            if key not in data:
                _unprocessable(["body", key], "field required", "value_error.missing")
        title = _str_field(data, "title", ["body"], max_len=128, allow_empty=False)
        self._check_definition(data["definition"], data.get("input_schema", {}))
        flow_id = _new_id()
        flow: Doc = {
            "id": flow_id,
            "title": title,
            "subtitle": "",
            "description": "",
            "keywords": [],
            "definition": data["definition"],
            "input_schema": data.get("input_schema", {}),
            "globus_auth_scope": flow_scope(flow_id),
            "globus_auth_username": f"{flow_id}@clients.auth.globus.org",
            "flow_owner": caller.identity,
            "flow_viewers": [],
            "flow_starters": [],
            "flow_administrators": [],
            "run_managers": [],
            "run_monitors": [],
            "subscription_id": None,
            "authentication_policy_id": None,
            "created_at": _iso(now),
            "updated_at": _iso(now),
            "deleted_at": None,
        }
        self._apply_flow_fields(flow, data, caller, creating=True)
        return flow

    def _check_definition(self, definition: Json, input_schema: Json) -> None:
        problems = _definition_problems(definition, ["body", "definition"])
        if not isinstance(input_schema, dict):
            problems.append(
                {"loc": ["body", "input_schema"], "msg": "input_schema must be an object", "type": "type_error.dict"}
            )
        if problems:
            raise _Fail(422, "UNPROCESSABLE_ENTITY", problems)

    def _apply_flow_fields(self, flow: Doc, data: Doc, caller: Caller, *, creating: bool) -> None:
        for key in _FLOW_TEXT_FIELDS:
            if key in data:
                max_len = 4096 if key == "description" else 128
                flow[key] = "" if data[key] is None else _str_field(data, key, ["body"], max_len=max_len)
        for key in _FLOW_LIST_FIELDS:
            if key in data:
                value = [] if data[key] is None else data[key]
                if key == "keywords":
                    flow[key] = _str_list(value, ["body", key])
                else:
                    flow[key] = _principals(value, ["body", key], everyone=key in ("flow_viewers", "flow_starters"))
        if "subscription_id" in data:
            sub = data["subscription_id"]
            if sub is not None and not isinstance(sub, str):
                _unprocessable(["body", "subscription_id"], "str type expected", "type_error.str")
            flow["subscription_id"] = DEFAULT_SUBSCRIPTION_ID if sub == "DEFAULT" else (sub or None)
        if "authentication_policy_id" in data:
            pol = data["authentication_policy_id"]
            if pol is not None and not isinstance(pol, str):
                _unprocessable(["body", "authentication_policy_id"], "str type expected", "type_error.str")
            flow["authentication_policy_id"] = pol or None
        if not creating and "flow_owner" in data:
            owner = data["flow_owner"]
            if not isinstance(owner, str) or not owner.startswith("urn:globus:auth:identity:"):
                _unprocessable(["body", "flow_owner"], "must be a Globus identity URN")
            if owner != flow["flow_owner"] and flow["flow_owner"] not in caller.principals:
                _forbidden("Only the flow's owner may give the flow to someone else")
            flow["flow_owner"] = owner

    def _register_flow_routes(self) -> None:
        def create_flow(req: StubRequest, caller: Caller, now: float) -> Reply:
            flow = self._new_flow(_json_object(req), caller, now)
            self.state.flows[flow["id"]] = flow
            return Reply.json(self._flow_doc(flow, caller), 201)

        def dry_run_flow(req: StubRequest, caller: Caller, now: float) -> Reply:
            # Legacy "deploy, but do not keep": same checks and answer as create.
            return Reply.json(self._flow_doc(self._new_flow(_json_object(req), caller, now), caller))

        def validate_flow(req: StubRequest, caller: Caller, now: float) -> Reply:
            data = _json_object(req)
            if "definition" not in data:
                _unprocessable(["body", "definition"], "field required", "value_error.missing")
            self._check_definition(data["definition"], data.get("input_schema", {}))
            # What the service reports: the scopes the flow's actions need, per RunAs.
            scopes: dict[str, list[str]] = {}
            for state in data["definition"].get("States", {}).values():
                if state.get("Type") == "Action":
                    bucket = scopes.setdefault(str(state.get("RunAs", "User")), [])
                    scope = state.get("ActionScope")
                    if isinstance(scope, str) and scope not in bucket:
                        bucket.append(scope)
            return Reply.json({"scopes": scopes, "analysis": {"number_of_possibilities": 1}})

        def get_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow, _ = self._visible_flow(flow_id, caller)
            return Reply.json(self._flow_doc(flow, caller))

        def update_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow, roles = self._visible_flow(flow_id, caller)
            if "flow_administrator" not in roles:
                _forbidden(f"You must be an administrator or the owner of flow {flow_id} to update it")
            data = _json_object(req)
            updated = dict(flow)
            if "title" in data:
                updated["title"] = _str_field(data, "title", ["body"], max_len=128, allow_empty=False)
            if "definition" in data or "input_schema" in data:
                self._check_definition(
                    data.get("definition", flow["definition"]), data.get("input_schema", flow["input_schema"])
                )
                for key in ("definition", "input_schema"):
                    if key in data:
                        updated[key] = data[key]
            self._apply_flow_fields(updated, data, caller, creating=False)
            updated["updated_at"] = _iso(now)
            self.state.flows[flow_id] = updated  # only now: a 422 half-way changes nothing
            return Reply.json(self._flow_doc(updated, caller))

        def delete_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow, roles = self._visible_flow(flow_id, caller)
            if "flow_administrator" not in roles:
                _forbidden(f"You must be an administrator or the owner of flow {flow_id} to delete it")
            doc = self._flow_doc(flow, caller)
            del self.state.flows[flow_id]
            doc["deleted_at"] = _iso(now)
            return Reply.json(doc)

        def list_flows(req: StubRequest, caller: Caller, now: float) -> Reply:
            wanted = self._wanted_roles(
                req, ("filter_roles", "filter_role"), _FLOW_ROLE_ALIASES, {*_FLOW_ROLE_ORDER, "run_manager", "run_monitor"}
            )
            fulltext = (req.arg("filter_fulltext") or "").casefold()
            title = (req.arg("filter_title") or "").casefold()
            keywords = {k.casefold() for k in (_comma_args(req, "filter_keywords") or [])}
            docs: list[Doc] = []
            for flow in self.state.flows.values():
                roles = self._flow_roles(flow, caller)
                if not roles.intersection(_FLOW_ROLE_ORDER):
                    continue
                if wanted is not None and not roles.intersection(wanted):
                    continue
                if title and title not in flow["title"].casefold():
                    continue
                if keywords and not keywords.intersection(k.casefold() for k in flow["keywords"]):
                    continue
                if fulltext:
                    text = " ".join([flow["title"], flow["subtitle"], flow["description"], *flow["keywords"], flow["id"]])
                    if fulltext not in text.casefold():
                        continue
                docs.append(self._flow_doc(flow, caller))
            return Reply.json(_page(req, _order(req, docs), "flows"))

        self._route("GET", "/flows", "service", list_flows)
        self._route("POST", "/flows", "service", create_flow)
        # The fixed names come before /flows/{flow_id} so they are never taken for ids.
        self._route("POST", "/flows/validate", "service", validate_flow)
        self._route("POST", "/flows/dry-run", "service", dry_run_flow)
        self._route("GET", "/flows/{flow_id}", "service", get_flow)
        self._route("PUT", "/flows/{flow_id}", "service", update_flow)
        self._route("DELETE", "/flows/{flow_id}", "service", delete_flow)

    def _wanted_roles(
        self, req: StubRequest, args: tuple[str, ...], aliases: Mapping[str, str], known: set[str]
    ) -> set[str] | None:
        values = _comma_args(req, *args)
        if values is None:
            return None
        wanted = {aliases.get(v, v) for v in values}
        unknown = wanted - known
        if unknown:
            _unprocessable(["query", args[0]], f"unknown role(s) {sorted(unknown)}; use {sorted(known)}")
        return wanted

    # -- starting runs -----------------------------------------------------------------

    def _parse_run_request(self, req: StubRequest, flow: Doc) -> Doc:
        """Validate a run body (422 shape, 400 input); returns the normalized request."""
        data = _json_object(req)
        if "body" not in data:
            _unprocessable(["body", "body"], "field required", "value_error.missing")
        body = data["body"]
        if not isinstance(body, dict):
            _unprocessable(["body", "body"], "value is not a valid dict", "type_error.dict")
        label = None
        if data.get("label") is not None:
            label = _str_field(data, "label", ["body"], max_len=64)
        tags = _str_list(data.get("tags") or [], ["body", "tags"])
        managers_raw = data["run_managers"] if data.get("run_managers") is not None else data.get("manage_by")
        monitors_raw = data["run_monitors"] if data.get("run_monitors") is not None else data.get("monitor_by")
        managers = _principals(managers_raw or [], ["body", "run_managers"], everyone=False)
        monitors = _principals(monitors_raw or [], ["body", "run_monitors"], everyone=False)
        policy = data.get("activity_notification_policy") or {"status": ["INACTIVE"]}
        if not isinstance(policy, dict) or not isinstance(policy.get("status", []), list):
            _unprocessable(["body", "activity_notification_policy"], "must be {\"status\": [...]}")
        statuses = policy.get("status", [])
        for i, status in enumerate(statuses):
            if status not in _NOTIFY_STATUSES:
                _unprocessable(["body", "activity_notification_policy", "status", i], f"must be one of {list(_NOTIFY_STATUSES)}")
        request_id = data.get("request_id")
        if request_id is not None and not isinstance(request_id, str):
            _unprocessable(["body", "request_id"], "str type expected", "type_error.str")
        self._check_input(body, flow["input_schema"])
        script = _parse_script(body, self.default_active_s) if "_stub" in body or not self.execute else None
        normalized: Doc = {
            "body": body,
            "label": label,
            "tags": [" ".join(t.split()) for t in tags],  # as the service normalizes tags
            "run_managers": managers,
            "run_monitors": monitors,
            "activity_notification_policy": {"status": list(dict.fromkeys(statuses))},
        }
        normalized["fingerprint"] = json.dumps(normalized, sort_keys=True)
        normalized["request_id"] = request_id
        normalized["script"] = script
        return normalized

    @staticmethod
    def _check_input(body: Doc, schema: Json) -> None:
        """Check the run's body against the flow's input schema (a real JSON Schema check)."""
        if not isinstance(schema, dict) or not schema:
            return
        try:
            import jsonschema  # type: ignore[import-untyped,unused-ignore]
        except ImportError:  # pragma: no cover - the testing extra brings it
            raise _Fail(500, "INTERNAL_ERROR",
                        "Checking run input needs jsonschema: pip install 'automate-lite[testing]'") from None
        try:
            validator_cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            errors = sorted(validator_cls(schema).iter_errors(body), key=lambda e: list(e.absolute_path))
        except jsonschema.exceptions.SchemaError as exc:
            raise _Fail(400, "FLOW_INPUT_ERROR", f"The flow's input schema is not valid: {exc.message}") from None
        if errors:
            where = [f"{'.'.join(str(p) for p in e.absolute_path) or '(the input)'}: {e.message}" for e in errors[:10]]
            raise _Fail(400, "FLOW_INPUT_ERROR",
                        "The input does not conform to the flow's input schema: " + "; ".join(where))

    def _starter_flow(self, flow_id: str, caller: Caller) -> Doc:
        flow, roles = self._visible_flow(flow_id, caller)
        if "flow_starter" not in roles:
            _forbidden(f"You are not allowed to run flow {flow_id} (you are not one of its flow_starters)")
        return flow

    def _make_run(self, flow: Doc, caller: Caller, request: Doc, now: float) -> RunRecord:
        script: RunScript | None = request["script"]
        run_id = _new_id()
        live = None
        if script is None:
            live = LiveRun(
                run_id=run_id,
                flow_id=flow["id"],
                flow_title=flow["title"],
                definition=copy.deepcopy(flow["definition"]),
                input=copy.deepcopy(request["body"]),
                owner=caller.identity,
                label=request["label"],
                tags=list(request["tags"]),
                user_info={**self._users.get(caller.identity, {}), "iat": int(now)},
                role_tokens=dict(self._role_tokens),
            )
        return RunRecord(
            run_id=run_id,
            seq=self.state.next_seq(),
            flow_id=flow["id"],
            flow_title=flow["title"],
            flow_snapshot={k: flow[k] for k in _SNAPSHOT_FIELDS},
            definition=flow["definition"],
            input_schema=flow["input_schema"],
            owner=caller.identity,
            body=request["body"],
            label=request["label"],
            tags=request["tags"],
            run_managers=request["run_managers"],
            run_monitors=request["run_monitors"],
            notification_policy=request["activity_notification_policy"],
            request_id=request["request_id"],
            fingerprint=request["fingerprint"],
            script=script,
            start=now,
            phases=[(now, script.outcome)] if script is not None else [],
            live=live,
        )

    def _register_start_routes(self) -> None:
        def run_flow(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            self.state.run_attempts += 1
            flow = self._starter_flow(flow_id, caller)
            self._maybe_require_consent(flow, caller)
            request = self._parse_run_request(req, flow)
            key = (caller.identity, flow_id, request["request_id"]) if request["request_id"] else None
            if key is not None and key in self.state.request_ids:
                existing = self.state.runs.get(self.state.request_ids[key])
                if existing is not None:
                    if existing.fingerprint != request["fingerprint"]:
                        _conflict(
                            f"request_id {request['request_id']!r} was already used to start run "
                            f"{existing.run_id} with a different request"
                        )
                    return Reply.json(self._run_doc(existing, caller, now))
            run = self._make_run(flow, caller, request, now)
            self.state.runs[run.run_id] = run
            self.state.runs_created += 1
            if key is not None:
                self.state.request_ids[key] = run.run_id
            doc = self._run_doc(run, caller, now)  # before the runner can move it on
            if run.live is not None:
                self.runner.submit(run.live)
            return Reply.json(doc, 201)

        def dry_run_run(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow = self._starter_flow(flow_id, caller)
            run = self._make_run(flow, caller, self._parse_run_request(req, flow), now)
            return Reply.json(self._run_doc(run, caller, now))  # kept nowhere, counted nowhere

        def validate_run(req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
            flow = self._starter_flow(flow_id, caller)
            self._parse_run_request(req, flow)
            return Reply.json({"message": "The run request is valid", "flow_id": flow_id})

        self._route("POST", "/flows/{flow_id}/run", "flow", run_flow)
        self._route("POST", "/flows/{flow_id}/run/dry-run", "either", dry_run_run)
        self._route("POST", "/flows/{flow_id}/validate_run", "either", validate_run)
        self._route("GET", "/flows/{flow_id}/runs", "service", self._list_flow_runs)

    def _maybe_require_consent(self, flow: Doc, caller: Caller) -> None:
        key = (caller.identity, flow["id"])
        forced = flow["id"] in self.state.consent_required
        once = self.consent_required_once and key not in self.state.consented
        if not (forced or once):
            return
        self.state.consent_required.discard(flow["id"])
        self.state.consented.add(key)
        scope = flow["globus_auth_scope"]
        raise _Fail(
            403,
            "CONSENT_REQUIRED",
            f"Missing required consent for the scope {scope}",
            {
                "code": "ConsentRequired",
                "authorization_parameters": {
                    "session_message": "Running this flow requires additional consent",
                    "session_required_policies": [],
                    "required_scopes": [scope],
                },
            },
        )

    # -- runs ---------------------------------------------------------------------------

    def _run_roles(self, run: RunRecord, caller: Caller) -> set[str]:
        p = caller.principals
        roles: set[str] = set()
        if run.owner in p:
            roles.update(_RUN_ROLE_ORDER)
        if p.intersection(run.run_managers):
            roles.update(("run_manager", "run_monitor"))
        if p.intersection(run.run_monitors):
            roles.add("run_monitor")
        flow = self.state.flows.get(run.flow_id)
        if flow is not None:
            if p.intersection(flow["run_managers"]):
                roles.update(("flow_run_manager", "run_manager", "run_monitor"))
            if p.intersection(flow["run_monitors"]):
                roles.update(("flow_run_monitor", "run_monitor"))
        return roles

    def _visible_run(self, run_id: str, caller: Caller, *, manage: bool = False) -> RunRecord:
        run = self.state.runs.get(run_id)
        if run is None or not self._run_roles(run, caller):
            _not_found("Run", run_id)
        if manage and "run_manager" not in self._run_roles(run, caller):
            _forbidden(f"You must be the owner or a run_manager of run {run_id} to change it")
        return run

    def _details(self, run: RunRecord, status: str) -> Doc:
        if status == "ENDED":
            return {"code": "FlowCanceled", "description": "The run was canceled"}
        if run.live is not None:
            return copy.deepcopy(run.live.details)
        s = run.script
        assert s is not None
        output = s.output if s.has_output else {k: v for k, v in run.body.items() if k != "_stub"}
        if status == "ACTIVE":
            return {"code": "FlowStarted", "description": "The run is in progress"}
        if status == "INACTIVE":
            return dict(
                s.inactive_details
                or {
                    "code": "ConsentRequired",
                    "description": "The run is waiting for the user's consent; resume it once given",
                    "required_scope": "https://auth.globus.org/scopes/actions.globus.org/transfer/transfer",
                }
            )
        if status == "SUCCEEDED":
            base: Doc = {"code": "FlowSucceeded", "description": "The run reached a successful completion state", "output": output}
        else:
            base = {"code": "FlowFailed", "description": "The run failed", "output": output}
        base.update(s.details)
        return base

    def _run_doc(self, run: RunRecord, caller: Caller, now: float, *, legacy: bool = False) -> Doc:
        raw_status = run.status(now)
        status = self.cancel_status if raw_status == "ENDED" else raw_status
        completion = run.completion(now)
        roles = self._run_roles(run, caller)
        is_manager = "run_manager" in roles or caller.kind == "any"
        doc: Doc = {
            "run_id": run.run_id,
            "action_id": run.run_id,
            "flow_id": run.flow_id,
            "flow_title": run.flow_title,
            "flow_last_updated": run.flow_snapshot["updated_at"],
            "status": status,
            "display_status": status,
            "details": self._details(run, raw_status),
            "label": run.label,
            "tags": list(run.tags),
            "run_owner": run.owner,
            # Monitors do not get to see who else manages the run (as the service does).
            "run_managers": list(run.run_managers) if is_manager else [],
            "run_monitors": list(run.run_monitors),
            "user_role": next((r for r in _RUN_ROLE_ORDER if r in roles), None),
            "start_time": _iso(run.start),
            "completion_time": _iso(completion) if completion is not None else None,
            "activity_notification_policy": {"status": list(run.notification_policy["status"])},
        }
        if legacy:  # what globus-automate-client's flow_action_status read
            doc.update(
                creator_id=run.owner,
                manage_by=doc["run_managers"],
                monitor_by=doc["run_monitors"],
                release_after=None,
            )
        return doc

    def _log_entries(self, run: RunRecord, now: float) -> list[Doc]:
        """The run's log so far, oldest first, derived from its script and the clock."""
        if run.live is not None:
            logged: list[Doc] = copy.deepcopy(run.live.log)
            for entry in logged:
                entry["time"] = _iso(entry["time"])
            return logged
        assert run.script is not None
        entries: list[Doc] = [
            {
                "code": "FlowStarted",
                "description": "The run was started",
                "time": run.start,
                "details": {"input": {k: v for k, v in run.body.items() if k != "_stub"}},
            }
        ]
        # Nothing but the cancellation itself is logged after a run was cancelled.
        horizon = min(now, run.ended_at) if run.ended_at is not None else now
        active = run.script.active_s
        n = run.script.passes
        for i, (begun, outcome) in enumerate(run.phases):
            if i > 0:
                entries.append({"code": "FlowResumed", "description": "The run was resumed", "time": begun, "details": {}})
            for k in range(n):
                entries.append(
                    {
                        "code": "PassCompleted",
                        "description": f"State StubPass{k + 1} of type Pass completed",
                        "time": begun + active * (k + 1) / (n + 1),
                        "details": {"state_name": f"StubPass{k + 1}", "state_type": "Pass"},
                    }
                )
            code = {"SUCCEEDED": "FlowSucceeded", "FAILED": "FlowFailed", "INACTIVE": "FlowInactive"}[outcome]
            entries.append(
                {
                    "code": code,
                    "description": f"The run became {outcome}",
                    "time": begun + active,
                    "details": self._details(run, outcome),
                }
            )
        entries = [e for e in entries if e["time"] <= horizon]
        if run.ended_at is not None and run.ended_at <= now:
            entries.append({"code": "FlowCanceled", "description": "The run was canceled", "time": run.ended_at, "details": {}})
        entries.sort(key=lambda e: e["time"])
        for entry in entries:
            entry["time"] = _iso(entry["time"])
        return entries

    def _run_list(self, req: StubRequest, caller: Caller, now: float, flow_ids: list[str] | None) -> Reply:
        wanted = self._wanted_roles(
            req, ("filter_roles", "filter_role"), _RUN_ROLE_ALIASES, {*_RUN_ROLE_ORDER, "flow_run_manager", "flow_run_monitor"}
        )
        statuses = _comma_args(req, "filter_status")
        if statuses is not None:
            bad = [s for s in statuses if s.upper() not in _RUN_STATUSES]
            if bad:
                _unprocessable(["query", "filter_status"], f"unknown status(es) {bad}; use {list(_RUN_STATUSES)}")
            statuses = [s.upper() for s in statuses]
        labels = _comma_args(req, "filter_label")
        started = _time_range(req, "filter_start_time")
        completed = _time_range(req, "filter_completion_time")
        docs: list[Doc] = []
        for run in sorted(self.state.runs.values(), key=lambda r: -r.seq):  # newest first
            roles = self._run_roles(run, caller)
            if not roles or (wanted is not None and not roles.intersection(wanted)):
                continue
            if flow_ids is not None and run.flow_id not in flow_ids:
                continue
            doc = self._run_doc(run, caller, now)
            if statuses is not None and doc["status"] not in statuses:
                continue
            if labels is not None and run.label not in labels:
                continue
            if started is not None and not _in_range(run.start, started):
                continue
            if completed is not None and not _in_range(run.completion(now), completed):
                continue
            docs.append(doc)
        return Reply.json(_page(req, _order(req, docs), "runs"))

    def _list_flow_runs(self, req: StubRequest, caller: Caller, now: float, flow_id: str) -> Reply:
        self._visible_flow(flow_id, caller)
        return self._run_list(req, caller, now, [flow_id])

    def _log_page(self, req: StubRequest, run: RunRecord, now: float, marker_args: tuple[str, ...]) -> Reply:
        entries = self._log_entries(run, now)
        if _bool_arg(req, "reverse_order"):
            entries.reverse()
        return Reply.json(
            _page(
                req,
                entries,
                "entries",
                per_page_arg="limit",
                default=_LOG_LIMIT_DEFAULT,
                maximum=_LOG_LIMIT_MAX,
                marker_args=marker_args,
            )
        )

    def _cancel(self, run: RunRecord, now: float) -> None:
        status = run.status(now)
        if status in ("SUCCEEDED", "FAILED"):
            _conflict(f"Run {run.run_id} already completed ({status}); it cannot be canceled")
        if status != "ENDED":
            run.ended_at = now
            live = run.live
            if live is not None:
                live.log.append({"code": "FlowCanceled", "description": "The run was canceled", "time": now,
                                 "details": {"state_name": live.current_state}})
                live.status = "ENDED"
                live.completed_at = now
                live.details = {"code": "FlowCanceled", "description": "The run was canceled"}
                self.runner.cancel(live)

    def _release(self, run: RunRecord, now: float) -> None:
        status = run.status(now)
        if status in ("ACTIVE", "INACTIVE"):
            _conflict(f"Run {run.run_id} is {status}; only a completed run can be released")
        del self.state.runs[run.run_id]
        if run.request_id is not None:
            self.state.request_ids.pop((run.owner, run.flow_id, run.request_id), None)

    def _resume(self, run: RunRecord, now: float) -> None:
        if run.live is not None and run.ended_at is None:
            why = self.runner.resume(run.live)
            if why is not None:
                _conflict(why)
            return
        status = run.status(now)
        if status != "INACTIVE":
            _conflict(f"Run {run.run_id} is {status}; only an INACTIVE run can be resumed")
        assert run.script is not None
        run.phases.append((now, run.script.resume_outcome))

    def _register_run_routes(self) -> None:
        def list_runs(req: StubRequest, caller: Caller, now: float) -> Reply:
            return self._run_list(req, caller, now, _comma_args(req, "filter_flow_id", "filter_flow_ids"))

        def get_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller)
            doc = self._run_doc(run, caller, now)
            if _bool_arg(req, "include_flow_description"):
                flow = self.state.flows.get(run.flow_id)
                source = flow if flow is not None else run.flow_snapshot
                doc["flow_description"] = {k: source[k] for k in run.flow_snapshot}
            return Reply.json(doc)

        def get_definition(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller)
            return Reply.json({"flow_id": run.flow_id, "definition": run.definition, "input_schema": run.input_schema})

        def get_log(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            return self._log_page(req, self._visible_run(run_id, caller), now, ("marker",))

        def update_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller, manage=True)
            data = _json_object(req)
            label = run.label
            if "label" in data:
                label = None if data["label"] is None else _str_field(data, "label", ["body"], max_len=64)
            # null, like an absent key, leaves a list as it is (globus-sdk drops MISSING).
            tags = run.tags
            if data.get("tags") is not None:
                tags = [" ".join(t.split()) for t in _str_list(data["tags"], ["body", "tags"])]
            managers, monitors = run.run_managers, run.run_monitors
            if data.get("run_managers") is not None:
                managers = _principals(data["run_managers"], ["body", "run_managers"], everyone=False)
            if data.get("run_monitors") is not None:
                monitors = _principals(data["run_monitors"], ["body", "run_monitors"], everyone=False)
            run.label, run.tags, run.run_managers, run.run_monitors = label, tags, managers, monitors
            return Reply.json(self._run_doc(run, caller, now))

        def cancel_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller, manage=True)
            self._cancel(run, now)
            return Reply.json(self._run_doc(run, caller, now))

        def release_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller, manage=True)
            doc = self._run_doc(run, caller, now)
            self._release(run, now)
            return Reply.json(doc)

        def resume_run(req: StubRequest, caller: Caller, now: float, run_id: str) -> Reply:
            run = self._visible_run(run_id, caller, manage=True)
            if caller.kind == "flow" and caller.flow_id not in (None, run.flow_id):
                raise _Fail(403, "MISSING_SCOPE", f"The token is not valid for the scope {flow_scope(run.flow_id)}")
            self._resume(run, now)
            return Reply.json(self._run_doc(run, caller, now))

        def batch_runs(req: StubRequest, caller: Caller, now: float) -> Reply:
            data = _json_object(req)
            filters = data.get("filters")
            if not isinstance(filters, dict) or "run_ids" not in filters:
                _unprocessable(["body", "filters", "run_ids"], "field required", "value_error.missing")
            run_ids = _str_list(filters["run_ids"], ["body", "filters", "run_ids"])
            changes: dict[str, dict[str, list[str]]] = {}
            for op in ("set", "add", "remove"):
                part = data.get(op) or {}
                if not isinstance(part, dict):
                    _unprocessable(["body", op], "must be an object", "type_error.dict")
                for key, value in part.items():
                    if key not in _BATCH_FIELDS:
                        _unprocessable(["body", op, key], f"only {list(_BATCH_FIELDS)} can be changed in a batch")
                    if key == "tags":
                        changes.setdefault(op, {})[key] = [" ".join(t.split()) for t in _str_list(value, ["body", op, key])]
                    else:
                        changes.setdefault(op, {})[key] = _principals(value, ["body", op, key], everyone=False)
            # All or nothing: check every run before changing any.
            runs = [self._visible_run(rid, caller, manage=True) for rid in dict.fromkeys(run_ids)]
            for run in runs:
                for key in _BATCH_FIELDS:
                    current: list[str] = list(getattr(run, key))
                    if key in changes.get("set", {}):
                        current = list(changes["set"][key])
                    for item in changes.get("add", {}).get(key, []):
                        if item not in current:
                            current.append(item)
                    removed = set(changes.get("remove", {}).get(key, []))
                    setattr(run, key, [x for x in current if x not in removed])
            return Reply.json({"runs": [self._run_doc(run, caller, now) for run in runs]})

        self._route("GET", "/runs", "service", list_runs)
        self._route("GET", "/runs/{run_id}", "service", get_run)
        self._route("PUT", "/runs/{run_id}", "service", update_run)
        self._route("GET", "/runs/{run_id}/definition", "service", get_definition)
        self._route("GET", "/runs/{run_id}/log", "service", get_log)
        self._route("POST", "/runs/{run_id}/cancel", "service", cancel_run)
        self._route("POST", "/runs/{run_id}/release", "service", release_run)
        self._route("POST", "/runs/{run_id}/resume", "either", resume_run)
        self._route("POST", "/batch/runs", "service", batch_runs)

    # -- legacy /flows/{fid}/{rid}/... ----------------------------------------------------

    def _register_legacy_routes(self) -> None:
        def legacy_run(caller: Caller, flow_id: str, run_id: str, manage: bool = False) -> RunRecord:
            run = self._visible_run(run_id, caller, manage=manage)
            if run.flow_id != flow_id:
                _not_found("Run", run_id)
            return run

        def status(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            return Reply.json(self._run_doc(legacy_run(caller, flow_id, run_id), caller, now, legacy=True))

        def log(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            return self._log_page(req, legacy_run(caller, flow_id, run_id), now, ("marker", "pagination_token"))

        def cancel(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            run = legacy_run(caller, flow_id, run_id, manage=True)
            self._cancel(run, now)
            return Reply.json(self._run_doc(run, caller, now, legacy=True))

        def release(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            run = legacy_run(caller, flow_id, run_id, manage=True)
            doc = self._run_doc(run, caller, now, legacy=True)
            self._release(run, now)
            return Reply.json(doc)

        def resume(req: StubRequest, caller: Caller, now: float, flow_id: str, run_id: str) -> Reply:
            run = legacy_run(caller, flow_id, run_id, manage=True)
            self._resume(run, now)
            return Reply.json(self._run_doc(run, caller, now, legacy=True))

        # Registered after /flows/{flow_id}/run/dry-run etc.: those are 4 segments with
        # fixed words, these 4 segments end in a legacy verb, so they never collide.
        self._route("GET", "/flows/{flow_id}/{run_id}/status", "flow", status)
        self._route("GET", "/flows/{flow_id}/{run_id}/log", "flow", log)
        self._route("POST", "/flows/{flow_id}/{run_id}/cancel", "flow", cancel)
        self._route("POST", "/flows/{flow_id}/{run_id}/release", "flow", release)
        self._route("POST", "/flows/{flow_id}/{run_id}/resume", "flow", resume)

    # -- web inputs and registered APIs ----------------------------------------------------

    @staticmethod
    def _web_input_roles(record: Doc, caller: Caller | None) -> list[str]:
        def has(key: str) -> bool:
            members = set(record[key])
            return bool(members & _EVERYONE) or (caller is not None and bool(members & caller.principals))

        respondent = has("_respondents")
        roles = ["viewer"] if respondent or has("_viewers") else []
        return roles + (["respondent"] if respondent else [])

    def _render_web_input(self, record: Doc, caller: Caller | None, *, summary: bool = False) -> Doc:
        doc = {k: v for k, v in record.items() if not k.startswith("_")}
        doc["user_roles"] = self._web_input_roles(record, caller) if caller is not None else ["viewer", "respondent"]
        if summary:
            doc.pop("options", None)
            doc.pop("response", None)
        return doc

    def _register_extra_routes(self) -> None:
        def list_web_inputs(req: StubRequest, caller: Caller, now: float) -> Reply:
            roles = _comma_args(req, "filter_roles")
            states = _comma_args(req, "filter_states")
            flow_ids = _comma_args(req, "filter_flow_ids")
            run_ids = _comma_args(req, "filter_run_ids")
            docs = []
            for record in self.state.web_inputs.values():
                mine = self._web_input_roles(record, caller)
                if not mine or (roles is not None and not set(mine) & set(roles)):
                    continue
                if states is not None and record["status"] not in states:
                    continue
                if flow_ids is not None and record["flow"]["id"] not in flow_ids:
                    continue
                if run_ids is not None and record["run"]["id"] not in run_ids:
                    continue
                docs.append(self._render_web_input(record, caller, summary=True))
            return Reply.json(_page(req, _order(req, docs), "web_input_summaries", has_next=False))

        def visible_web_input(caller: Caller, web_input_id: str) -> Doc:
            record = self.state.web_inputs.get(web_input_id)
            if record is None or not self._web_input_roles(record, caller):
                _not_found("Web Input", web_input_id)
            return record

        def get_web_input(req: StubRequest, caller: Caller, now: float, web_input_id: str) -> Reply:
            return Reply.json(self._render_web_input(visible_web_input(caller, web_input_id), caller))

        def respond(req: StubRequest, caller: Caller, now: float, web_input_id: str) -> Reply:
            record = visible_web_input(caller, web_input_id)
            if "respondent" not in self._web_input_roles(record, caller):
                _forbidden(f"User does not have respondent role on web input {web_input_id}")
            data = _json_object(req)
            response = data.get("response")
            if not isinstance(response, dict) or "value" not in response:
                _unprocessable(["body", "response", "value"], "field required", "value_error.missing")
            if record["status"] != "open":
                _conflict(f"Web Input {web_input_id} is already closed.")
            value = response["value"]
            if record["input_type"] == "selection" and value not in [o["option_id"] for o in record["options"]]:
                raise _Fail(422, "UNPROCESSABLE_ENTITY", f"{value!r} is not a registered option id for this input.")
            record.update(
                status="closed",
                closed_timestamp=_iso(now),
                edited_timestamp=_iso(now),
                response={"value": value, "respondent": caller.identity},
            )
            run = self.state.runs.get(record["run"]["id"] or "")
            if run is not None and run.live is not None:
                self.runner.web_input_answered(run.live, web_input_id)
            return Reply.json({"status": "ok"})

        def api_roles(doc: Doc, caller: Caller) -> set[str]:
            p = caller.principals
            r = doc["roles"]
            roles: set[str] = set()
            if p & set(r["owners"]):
                roles.update(("owner", "administrator", "viewer"))
            if p & set(r["administrators"]):
                roles.update(("administrator", "viewer"))
            if p & set(r["viewers"]) or _EVERYONE & set(r["viewers"]):
                roles.add("viewer")
            return roles

        def list_registered_apis(req: StubRequest, caller: Caller, now: float) -> Reply:
            wanted = self._wanted_roles(req, ("filter_roles",), {}, {"owner", "administrator", "viewer"})
            docs = [
                dict(doc)
                for doc in self.state.registered_apis.values()
                if api_roles(doc, caller) and (wanted is None or api_roles(doc, caller) & wanted)
            ]
            return Reply.json(_page(req, _order(req, docs), "registered_apis"))

        def get_registered_api(req: StubRequest, caller: Caller, now: float, api_id: str) -> Reply:
            doc = self.state.registered_apis.get(api_id)
            if doc is None or not api_roles(doc, caller):
                _not_found("Registered API", api_id)
            return Reply.json(doc)

        self._route("GET", "/web_inputs", "service", list_web_inputs)
        self._route("GET", "/web_inputs/{web_input_id}", "service", get_web_input)
        self._route("POST", "/web_inputs/{web_input_id}/respond", "service", respond)
        def create_registered_api(req: StubRequest, caller: Caller, now: float) -> Reply:
            data = _json_object(req)
            if "name" not in data:
                _unprocessable(["body", "name"], "field required", "value_error.missing")
            name = _str_field(data, "name", ["body"], max_len=100, allow_empty=False)
            target = data.get("target")
            dest = target.get("destination") if isinstance(target, dict) else None
            if not isinstance(dest, dict) or not isinstance(dest.get("url"), str) or not isinstance(dest.get("method"), str):
                _unprocessable(["body", "target", "destination"], "a destination {method, url} is required")
            raw_roles = data.get("roles")
            roles: Doc = raw_roles if isinstance(raw_roles, dict) else {}
            doc = self.add_registered_api(
                name,
                description=str(data.get("description") or ""),
                owners=[caller.identity, *_str_list(roles.get("owners", []), ["body", "roles", "owners"])],
                administrators=_str_list(roles.get("administrators", []), ["body", "roles", "administrators"]),
                viewers=_str_list(roles.get("viewers", []), ["body", "roles", "viewers"]),
                url=dest["url"],
                method=str(dest["method"]).lower(),
            )
            if isinstance(data.get("state_input_schema"), dict):
                doc["state_input_schema"] = data["state_input_schema"]
            self.state.registered_apis[doc["id"]] = doc
            return Reply.json(doc, 201)

        self._route("POST", "/registered_apis", "service", create_registered_api)
        self._route("GET", "/registered_apis", "service", list_registered_apis)
        self._route("GET", "/registered_apis/{api_id}", "service", get_registered_api)

    def _register_routes(self) -> None:
        self._register_flow_routes()
        self._register_start_routes()
        self._register_run_routes()
        self._register_legacy_routes()
        self._register_extra_routes()


def serve_flows(port: int = 0, host: str = "127.0.0.1", **options: Any) -> None:
    """Serve a :class:`FlowsStub` in the foreground until interrupted.

    ``options`` are :class:`FlowsStub` arguments (auth is off without ``tokens`` or
    ``flow_tokens``). Prints ``flows <url>`` once listening, so a parent can read the port.
    """
    stub = FlowsStub(host=host, port=port, **options)
    print(f"flows {stub.url}", flush=True)
    try:
        stub.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stub.stop()
