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
    ``/runs/{id}/resume`` take either (globus-sdk resumes with the flow's scope), as do
    ``GET /flows/{id}/runs`` and ``GET /runs/{id}/definition`` (globus-automate-client
    0.18 asked its authorizer_callback for the flow's scope there); a flow token is only
    good for its own flow (for a run: the flow the run belongs to).
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

Handler states, RunAs and web-input expiry
    ``Handler: {"Type": "RegisteredAPI", "Id"}`` calls a registered API the stub keeps
    (``api_urls`` maps its destination to a local server); ``Handler:
    "urn:globus:flows:handle:..."`` runs a function given to
    :meth:`FlowsStub.add_hosted_handler` (``groups.get_group`` and
    ``groups.get_my_groups`` are built in, see :mod:`.hosted`). ``RunAs: "Flow"``
    presents :meth:`FlowsStub.flow_identity_token`; any other role presents the token
    the run's input gives under ``"_tokens": {role: token}`` (the documented way; it is
    taken off the input), else :meth:`FlowsStub.add_run_as_token`'s. ``CreateWebInput`` takes
    ``ExpiresIn`` (seconds; a guessed name, the docs name none): an expired input fails
    its AwaitWebInput with ``Flows.WebInputExpired`` and a late answer gets 409
    (:meth:`FlowsStub.expire_web_input` expires one at once).

Limits (the Globus Flows "Limits" page, :class:`FlowLimits`)
    ``FlowsStub(limits=FlowLimits(...))``, by default the documented ones, timed by the
    stub's ``clock``: a run's state may be at most 200,000 bytes of compact UTF-8 JSON
    (an input over it: 400 ``FLOW_INPUT_ERROR``; a result or Catch output over it fails
    the run with ``States.DataLimitExceeded``, which no Catch takes); a run still
    ACTIVE/INACTIVE a year (365 days) after it started ends FAILED with
    ``details.error`` ``Flows.RunDurationExceeded``; a run completed 90 days ago is gone
    (404). ``FlowLimits(free_tier=True)`` also allows each owner one flow without a
    ``subscription_id`` (another: 403 ``FORBIDDEN``) and removes such a flow 30 days
    after its creation. ``max_states_executed`` (10,000) is the stand-in's own guard
    against endless loops (``States.Runtime``). Every request applies the limits first;
    :meth:`FlowsStub.apply_limits` does it without one; assign ``stub.limits`` to
    change them (see :mod:`.limits` for the readings of the docs).

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

from .store import (
    DEFAULT_IDENTITY,
    DEFAULT_SUBSCRIPTION_ID,
    FLOWS_SCOPE_PREFIX,
    Caller,
    FlowsState,
    RunRecord,
    RunScript,
    flow_scope,
)
from ..runner.model import HandlerError, HostedCall
from .limits import FlowLimits
from .service import FlowsStub, serve_flows

__all__ = [
    "FlowsStub",
    "FlowLimits",
    "HandlerError",
    "HostedCall",
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
