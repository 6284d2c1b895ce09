"""What the local Flows service keeps: its records, constants and error replies."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Mapping, NoReturn, Sequence

from .._server import Reply, StubRequest
from ..runner import LiveRun

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
    terminated_at: float | None = None  # when a scripted run was ended for running too long (FAILED)
    live: LiveRun | None = None  # the runner's record of an executed run

    def status(self, now: float) -> str:
        """ACTIVE, INACTIVE, SUCCEEDED, FAILED or ``"ENDED"`` (cancelled), at ``now``."""
        if self.ended_at is not None:
            return "ENDED"
        if self.live is not None:
            return self.live.status
        if self.terminated_at is not None:
            return "FAILED"
        assert self.script is not None
        begun, outcome = self.phases[-1]
        return "ACTIVE" if now < begun + self.script.active_s else outcome

    def completion(self, now: float) -> float | None:
        """When the run finished, if it has."""
        if self.ended_at is not None:
            return self.ended_at
        if self.live is not None:
            return self.live.completed_at
        if self.terminated_at is not None:
            return self.terminated_at
        assert self.script is not None
        status = self.status(now)
        if status in ("SUCCEEDED", "FAILED"):
            return self.phases[-1][0] + self.script.active_s
        return None


@dataclass
class FlowsState:
    """Everything the stub knows; tests read it (take ``lock`` to read consistently).

    Attributes:
        flows: flow id -> flow record (the document fields, without ``user_role``);
            deleted flows are gone, and with ``FlowLimits(free_tier=True)`` expired ones.
        runs: run id -> :class:`RunRecord` (released runs are gone, and those completed
            longer ago than ``FlowLimits.run_retention_s``, once limits are applied).
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

