"""A real Action Provider built with globus-action-provider-tools, for end-to-end tests.

Runs in its own virtual environment (``.apt-venv/``, built by ``tests/test_apt_provider.py``
from ``requirements.txt`` beside this file), because the toolkit pins ``globus-sdk<4`` and
``pydantic<2`` and must stay out of the project's environment.

    python provider_app.py PORT      # PORT 0 lets the OS pick one

serves the provider at ``http://127.0.0.1:PORT/apt`` (werkzeug, threaded) and prints
``APT-PROVIDER READY http://127.0.0.1:PORT/apt`` once it listens.

What it does, all in memory: the input ``{"echo_string": str, "sleep_s"?: number,
"require_resume"?: bool}`` is validated by the toolkit (422 on a bad body); an action is
ACTIVE for ``sleep_s`` seconds (measured from the run, or from the resume), then
SUCCEEDED with ``details.echo_string``. With ``require_resume`` it starts INACTIVE until
resumed. Cancel makes an unfinished action FAILED; release forgets a finished one (409
while it runs); resume of an action that is not INACTIVE is a 409; the same
``request_id`` with the same body answers the existing action with 200 (202 for a new
one), with another body 409. Every step is logged (``/log``, paged with ``marker`` or
``pagination_token``).

Token introspection never reaches Globus Auth: the toolkit builds its Auth client through
``ActionProviderConfig.client_factory`` (a ``ClientFactory``; in 0.21 its
``make_confidential_app_auth_client``), and :class:`LocalClientFactory` hands it
:class:`LocalAuthClient`, which answers introspection from :data:`TOKENS`. That is the
toolkit's own hook: nothing is monkeypatched.

``GET /_debug/requests/<request_id>`` (outside the provider, no token) tells how many
actions were created for a ``request_id`` and how many the provider holds.
"""

from __future__ import annotations

import datetime
import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, cast

import flask
import globus_sdk
from globus_action_provider_tools import (
    ActionProviderDescription,
    ActionRequest,
    ActionStatus,
    ActionStatusValue,
    AuthState,
)
from globus_action_provider_tools.client_factory import ClientFactory
from globus_action_provider_tools.data_types import ActionLogEntry, ActionLogReturn
from globus_action_provider_tools.flask import ActionProviderBlueprint, ActionProviderConfig
from globus_action_provider_tools.flask.exceptions import ActionConflict, BadActionRequest
from globus_action_provider_tools.flask.helpers import assign_json_provider
from globus_action_provider_tools.storage import AbstractActionRepository
from werkzeug.serving import make_server

# Keep these in step with tests/test_apt_provider.py (the two run in different venvs).
SCOPE = "https://auth.globus.org/scopes/5e1f3f0c-7d6f-4c1e-9a59-6f2d1c0a7e11/apt_e2e"
ALICE_ID = "b1f2c3d4-0000-4000-8000-00000000a11c"
BOB_ID = "b1f2c3d4-0000-4000-8000-000000000b0b"
ALICE_TOKEN = "apt-e2e-token-alice-0123456789"
BOB_TOKEN = "apt-e2e-token-bob-0123456789"
WRONG_SCOPE_TOKEN = "apt-e2e-token-wrong-scope-0123456789"
PREFIX = "/apt"

#: token -> (identity id, scopes granted). Any other token introspects as inactive.
TOKENS: dict[str, tuple[str, str]] = {
    ALICE_TOKEN: (ALICE_ID, SCOPE),
    BOB_TOKEN: (BOB_ID, SCOPE),
    WRONG_SCOPE_TOKEN: (ALICE_ID, "urn:globus:auth:scope:transfer.api.globus.org:all"),
}

INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "echo_string": {"type": "string"},
        "sleep_s": {"type": "number", "minimum": 0, "maximum": 60},
        "require_resume": {"type": "boolean"},
    },
    "required": ["echo_string"],
    "additionalProperties": False,
}

# ----------------------------------------------------------------------------------------
# Globus Auth, answered locally


class _NoDependentTokens:
    """An ``OAuthDependentTokenResponse`` look-alike holding no tokens.

    The toolkit asks for dependent tokens only to reach Groups (when an access list names
    a group); with none, it falls back to "no groups", as its own code documents.
    """

    by_scopes: dict[str, dict[str, Any]] = {}
    data: list[dict[str, Any]] = []


class LocalAuthClient:
    """Stands in for ``globus_sdk.ConfidentialAppAuthClient``; answers from :data:`TOKENS`."""

    def __init__(self) -> None:
        self.introspections = 0
        self._lock = threading.Lock()

    def oauth2_token_introspect(self, token: str, include: str | None = None) -> dict[str, Any]:
        """What ``POST /v2/oauth2/token/introspect`` answers (with ``include=identity_set``)."""
        with self._lock:
            self.introspections += 1
        found = TOKENS.get(token)
        if found is None:
            return {"active": False}
        identity, scope = found
        now = int(time.time())
        doc: dict[str, Any] = {
            "active": True,
            "scope": scope,
            "sub": identity,
            "username": f"{identity}@example.org",
            "client_id": "6a4c0f2e-0000-4000-8000-0000000c11e7",
            "aud": ["6a4c0f2e-0000-4000-8000-0000000c11e7"],
            "iss": "https://auth.globus.org",
            "token_type": "Bearer",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
        }
        if include and "identity_set" in include.split(","):
            doc["identity_set"] = [identity]
        return doc

    def oauth2_get_dependent_tokens(self, token: str, **_: Any) -> _NoDependentTokens:
        return _NoDependentTokens()

    def get_identities(self, *, ids: Iterable[str] | str | None = None, **_: Any) -> dict[str, Any]:
        wanted = [ids] if isinstance(ids, str) else list(ids or [])
        known = {identity for identity, _scope in TOKENS.values()}
        return {
            "identities": [
                {"id": i, "username": f"{i}@example.org", "status": "used"} for i in wanted if i in known
            ]
        }


class LocalClientFactory(ClientFactory):  # type: ignore[misc]
    """The toolkit's hook for building its Globus clients: ours never leave the process."""

    def __init__(self) -> None:
        self.auth_client = LocalAuthClient()

    def make_confidential_app_auth_client(
        self, client_id: str | uuid.UUID, client_secret: str
    ) -> globus_sdk.ConfidentialAppAuthClient:
        return cast(globus_sdk.ConfidentialAppAuthClient, self.auth_client)

    def make_groups_client(self, authorizer: Any) -> globus_sdk.GroupsClient:
        raise RuntimeError("this test provider has no Globus Groups")


# ----------------------------------------------------------------------------------------
# The provider's state


@dataclass
class _Track:
    """What the provider keeps beside an action's ActionStatus."""

    request_id: str
    request_doc: dict[str, Any]
    sleep_s: float
    started: float | None  # monotonic clock; None while INACTIVE
    log: list[dict[str, Any]] = field(default_factory=list)


class InMemoryActionRepository(AbstractActionRepository):  # type: ignore[misc]
    """The toolkit's repository interface over a dict (so the toolkit itself answers
    404 for unknown ids and checks who may see or manage each action)."""

    def __init__(self) -> None:
        self.actions: dict[str, ActionStatus] = {}
        self.lock = threading.RLock()

    def get(self, action_id: str) -> ActionStatus | None:
        with self.lock:
            return self.actions.get(action_id)

    def store(self, action: ActionStatus) -> None:
        with self.lock:
            self.actions[action.action_id] = action

    def remove(self, action: ActionStatus) -> None:
        with self.lock:
            self.actions.pop(action.action_id, None)


REPO = InMemoryActionRepository()
TRACKS: dict[str, _Track] = {}
BY_REQUEST: dict[tuple[str, str], str] = {}  # (creator, request_id) -> action_id
CREATED: dict[str, int] = {}  # request_id -> actions created for it


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _log(track: _Track, code: str, description: str, **details: Any) -> None:
    track.log.append({"code": code, "description": description, "details": details or None, "time": _now().isoformat()})


def _advance(action: ActionStatus) -> ActionStatus:
    """Move an ACTIVE action to SUCCEEDED once its ``sleep_s`` has passed."""
    track = TRACKS.get(action.action_id)
    if track is None or action.status != ActionStatusValue.ACTIVE or track.started is None:
        return action
    if time.monotonic() - track.started < track.sleep_s:
        return action
    action.status = ActionStatusValue.SUCCEEDED
    action.display_status = "Succeeded"
    action.completion_time = _now()
    action.details = {"echo_string": track.request_doc["body"]["echo_string"]}
    _log(track, "ActionSucceeded", "the action finished")
    REPO.store(action)
    return action


def _request_doc(request: ActionRequest) -> dict[str, Any]:
    """The parts of a run request that make it "the same request" again."""
    doc = json.loads(request.json(include={"body", "label", "monitor_by", "manage_by", "release_after"}))
    for key in ("monitor_by", "manage_by"):
        doc[key] = sorted(doc.get(key) or [])
    return cast(dict[str, Any], doc)


description = ActionProviderDescription(
    globus_auth_scope=SCOPE,
    title="automate-lite end-to-end provider",
    subtitle="echoes its input after a while",
    admin_contact="automate-lite@example.org",
    synchronous=False,
    input_schema=INPUT_SCHEMA,
    log_supported=True,
    visible_to=["all_authenticated_users"],
    runnable_by=["all_authenticated_users"],
    keywords=["test"],
)

provider = ActionProviderBlueprint(
    name="apt",
    import_name=__name__,
    url_prefix=PREFIX,
    provider_description=description,
    action_repository=REPO,
    config=ActionProviderConfig(scrub_validation_errors=False, client_factory=LocalClientFactory()),
)


def run_action(request: ActionRequest, auth: AuthState) -> ActionStatus | tuple[ActionStatus, int]:
    creator = auth.effective_identity
    doc = _request_doc(request)
    with REPO.lock:
        known = BY_REQUEST.get((creator, request.request_id))
        if known is not None:
            existing = REPO.get(known)
            if existing is not None:
                if TRACKS[known].request_doc != doc:
                    raise ActionConflict(
                        f"request_id {request.request_id!r} was already used with a different request"
                    )
                return _advance(existing), 200
        body = request.body
        waiting = bool(body.get("require_resume"))
        action = ActionStatus(
            status=ActionStatusValue.INACTIVE if waiting else ActionStatusValue.ACTIVE,
            display_status="Waiting for resume" if waiting else "Running",
            creator_id=creator,
            label=request.label,
            monitor_by=request.monitor_by,
            manage_by=request.manage_by,
            release_after=request.release_after,
            details=(
                {"code": "ResumeRequired", "description": "resume this action to let it run"}
                if waiting
                else {"echo_string_length": len(body["echo_string"])}
            ),
        )
        track = _Track(
            request_id=request.request_id,
            request_doc=doc,
            sleep_s=float(body.get("sleep_s", 0)),
            started=None if waiting else time.monotonic(),
        )
        TRACKS[action.action_id] = track
        BY_REQUEST[(creator, request.request_id)] = action.action_id
        CREATED[request.request_id] = CREATED.get(request.request_id, 0) + 1
        _log(track, "ActionStarted", "the action was created", request_id=request.request_id)
        if waiting:
            _log(track, "ActionInactive", "waiting for a resume")
        return action


def action_status(action: ActionStatus, auth: AuthState) -> ActionStatus:
    with REPO.lock:
        return _advance(action)


def action_cancel(action: ActionStatus, auth: AuthState) -> ActionStatus:
    with REPO.lock:
        action = _advance(action)
        if action.is_complete():
            return action
        action.status = ActionStatusValue.FAILED
        action.display_status = "Cancelled"
        action.completion_time = _now()
        action.details = {"code": "ActionCanceled", "description": "cancelled on request"}
        _log(TRACKS[action.action_id], "ActionCancelled", "cancelled on request")
        return action


def action_resume(action: ActionStatus, auth: AuthState) -> ActionStatus:
    with REPO.lock:
        action = _advance(action)
        if action.status != ActionStatusValue.INACTIVE:
            raise ActionConflict(f"action {action.action_id} is {action.status}, not INACTIVE")
        track = TRACKS[action.action_id]
        track.started = time.monotonic()
        action.status = ActionStatusValue.ACTIVE
        action.display_status = "Running"
        action.details = {"echo_string_length": len(track.request_doc["body"]["echo_string"])}
        _log(track, "ActionResumed", "resumed on request")
        return action


def action_release(action: ActionStatus, auth: AuthState) -> ActionStatus:
    with REPO.lock:
        action = _advance(action)
        if not action.is_complete():
            raise ActionConflict(f"action {action.action_id} is {action.status}; only a finished action can be released")
        REPO.remove(action)
        TRACKS.pop(action.action_id, None)
        return action


def action_log(action_id: str, auth: AuthState) -> ActionLogReturn:
    args = flask.request.args
    try:
        limit = int(args.get("limit", "10"))
        start = int(args.get("marker") or args.get("pagination_token") or "0")
    except ValueError:
        raise BadActionRequest("limit and marker must be integers") from None
    if limit < 1 or start < 0:
        raise BadActionRequest("limit must be >= 1 and marker >= 0")
    with REPO.lock:
        action = REPO.get(action_id)
        if action is not None:
            _advance(action)
        entries = list(TRACKS[action_id].log) if action_id in TRACKS else []
    if args.get("reverse_order", "").lower() in ("true", "1", "yes"):
        entries.reverse()
    page = entries[start : start + limit]
    more = start + limit < len(entries)
    return ActionLogReturn(
        limit=limit,
        has_next_page=more,
        marker=str(start + limit) if more else None,
        entries=[ActionLogEntry(**entry) for entry in page],
    )


def action_enumerate(auth: AuthState, params: dict[str, set[Any]]) -> list[ActionStatus]:
    statuses = params["statuses"]
    roles = params["roles"]
    mine = auth.identities  # not .principals: that would ask Groups, which we do not have
    found: list[ActionStatus] = []
    with REPO.lock:
        for action in list(REPO.actions.values()):
            action = _advance(action)
            if action.status not in statuses:
                continue
            holders: set[str] = set()
            if "creator_id" in roles:
                holders.add(action.creator_id)
            if "monitor_by" in roles:
                holders |= set(action.monitor_by or ())
            if "manage_by" in roles:
                holders |= set(action.manage_by or ())
            if holders & mine:
                found.append(action)
    return found


# Registered by calls rather than as decorators: the toolkit is untyped, and a
# decorator would erase these functions' types.
provider.action_run(run_action)
provider.action_status(action_status)
provider.action_cancel(action_cancel)
provider.action_resume(action_resume)
provider.action_release(action_release)
provider.action_log(action_log)
provider.action_enumerate(action_enumerate)


def create_app() -> flask.Flask:
    app = flask.Flask(__name__)
    # flask.jsonify encodes with the *app's* JSON provider: give it the toolkit's, which
    # knows ActionStatus, sets and timedeltas.
    assign_json_provider(app)
    app.config["CLIENT_ID"] = "6a4c0f2e-0000-4000-8000-0000000c11e7"
    app.config["CLIENT_SECRET"] = "not-a-secret-local-introspection-only"
    app.register_blueprint(provider)

    @app.get("/_debug/requests/<request_id>")
    def debug_request(request_id: str) -> flask.Response:
        with REPO.lock:
            return flask.jsonify(
                {
                    "request_id": request_id,
                    "created": CREATED.get(request_id, 0),
                    "held": sum(1 for t in TRACKS.values() if t.request_id == request_id),
                    "actions_in_provider": len(REPO.actions),
                }
            )

    return app


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[1].isdigit():
        print(f"usage: {argv[0]} PORT   (0: any free port)", file=sys.stderr)
        return 2
    server = make_server("127.0.0.1", int(argv[1]), create_app(), threaded=True)
    print(f"APT-PROVIDER READY http://127.0.0.1:{server.server_port}{PREFIX}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
