"""What a run is for the runner: :class:`LiveRun`, its host, its errors, the Parameters rules."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ...definitions import expressions, jsonpath
from ...definitions.rules import rule_matches as _rule_matches
from ...definitions.rules import RuleError

Doc = dict[str, Any]

#: The error names the runner raises (see the module docstring).
ERROR_NAMES = (
    "ActionUnableToRun",
    "ActionFailedException",
    "ActionTimeout",
    "States.ParameterPathFailure",
    "ExpressionEvaluationError",
    "States.ResultPathMatchFailure",
    "States.NoChoiceMatched",
    "States.Runtime",
    "Flows.WebInputExpired",
    "States.DataLimitExceeded",
    "Flows.RunDurationExceeded",
)

_FINAL = frozenset({"SUCCEEDED", "FAILED", "ENDED"})
_ACTION_FINAL = frozenset({"SUCCEEDED", "FAILED"})
_DEFAULT_WAIT_TIME = 300.0


class RunHost(Protocol):
    """What the runner needs from the service that owns the runs (the Flows stand-in)."""

    @property
    def lock(self) -> threading.RLock:
        """The lock that guards every run record (taken briefly, never across an await)."""
        ...

    def now(self) -> float:
        """The service clock (for log times)."""
        ...

    def open_web_input(self, run: "LiveRun", state_name: str, spec: Doc) -> Doc:
        """Create a web input for ``run``; return its document. Raise ValueError on a bad spec."""
        ...

    def web_input_record(self, web_input_id: str) -> Doc | None:
        """The web input's current document (``status``, ``response``, ``options``), or None."""
        ...

    def registered_api(self, api_id: str) -> Doc | None:
        """The registered API document with ``api_id`` (``target.destination``), or None."""
        ...

    def expire_web_input(self, web_input_id: str) -> bool:
        """Expire an open web input now (its ``ExpiresIn`` ran out); waking the run awaiting it."""
        ...

    def hosted_handler(self, handle: str) -> "HostedHandler | None":
        """The function serving a hosted handle (``urn:globus:flows:handle:...``), or None."""
        ...


#: The prefix of every hosted handle; Globus's own are ``urn:globus:flows:handle:globus:<service>.<route>``.
HANDLE_PREFIX = "urn:globus:flows:handle:"
GLOBUS_HANDLE_PREFIX = HANDLE_PREFIX + "globus:"


def full_handle(name: str) -> str:
    """``groups.get_group`` -> ``urn:globus:flows:handle:globus:groups.get_group``; a full URN stays."""
    return name if name.startswith(HANDLE_PREFIX) else GLOBUS_HANDLE_PREFIX + name


@dataclass(frozen=True)
class HostedCall:
    """What a hosted handler function is given when a ``Handler: "urn:..."`` state runs it.

    ``parameters`` are the state's Parameters (flat, as the docs' hosted registered APIs
    take them: no ``path``/``query`` nesting), ``context`` the run's ``$._context``.
    ``token`` is the bearer token of the state's RunAs role (None when the run has none);
    it is not part of the repr.
    """

    parameters: Doc
    handle: str
    state_name: str
    run_id: str
    flow_id: str
    owner: str
    context: Doc
    token: str | None = field(default=None, repr=False)


class HandlerError(Exception):
    """Raised by a hosted handler to answer an HTTP error: the state fails with
    ``ActionFailedException`` and ``{"status_code", "body"}`` as its error output."""

    def __init__(self, status_code: int, body: Any) -> None:
        super().__init__(f"hosted handler answered {status_code}")
        self.status_code = status_code
        self.body = body


#: A hosted handler: a function of the call, answering the response body (JSON), sync or async.
HostedHandler = Callable[[HostedCall], Any]


@dataclass
class LiveRun:
    """What the runner knows of one executed run (read by the stub under ``host.lock``)."""

    run_id: str
    flow_id: str
    flow_title: str
    definition: Doc
    input: Any
    owner: str
    label: str | None = None
    tags: list[str] = field(default_factory=list)
    #: ``username``, ``email``, ``identities`` of the run's owner, and when its token
    #: was issued (``iat``) and expires (``exp``); the stub fills them from its users.
    user_info: Doc = field(default_factory=dict)
    #: RunAs role -> bearer token for actions run as that role ("User": the owner).
    role_tokens: dict[str, str] = field(default_factory=dict)
    status: str = "ACTIVE"
    details: Doc = field(default_factory=lambda: {"code": "FlowStarted", "description": "The Flow Instance started execution"})
    log: list[Doc] = field(default_factory=list)  # entries with a float "time"
    completed_at: float | None = None
    current_state: str | None = None
    waiting_for: str | None = None  # "action" or "web_input" while INACTIVE
    web_input_id: str | None = None
    action: tuple[str, str] | None = None  # (action_url, action_id) in progress
    pending_start: tuple[str, Doc, str] | None = None  # (url, body, request_id) being started
    #: The state document as the run last left it (what a run ended by a limit shows as output).
    document: Any = field(default=None, repr=False)
    #: An upper bound of the state document's size in bytes (see ``RunnerCore._put``).
    state_bytes_bound: int = 0
    task: "asyncio.Task[None] | None" = field(default=None, repr=False)
    wake_event: asyncio.Event | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        """SUCCEEDED, FAILED or ENDED (cancelled)."""
        return self.status in _FINAL

    def context(self) -> Doc:
        """The run context (``$._context``), with the fields the Flows docs' Run Context page lists.

        ``user_id`` and ``identities`` are URNs, as documented; ``action_id`` (the run id)
        is what flows written for the older service read; ``flow_title``, ``label`` and
        ``tags`` are extras of the stand-in.
        """
        info = self.user_info
        iat = int(info.get("iat", 0))
        exp = int(info.get("exp", iat + 172_800))
        username = info.get("username")
        return {
            "run_id": self.run_id,
            "action_id": self.run_id,
            "flow_id": self.flow_id,
            "flow_title": self.flow_title,
            "user_id": self.owner,
            "username": username if username is not None else f"{self.owner.rsplit(':', 1)[-1]}@globusid.org",
            "email": info.get("email"),
            "identities": list(info.get("identities") or [self.owner]),
            "token_info": {"exp": exp, "iat": iat, "nbf": iat},
            "label": self.label,
            "tags": list(self.tags),
        }


class StateFailure(Exception):
    """A state failed with a catchable error (``error`` is the name Catch matches)."""

    def __init__(self, error: str, cause: str, output: Any = None, *, logged: bool = False) -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.output = output
        self.logged = logged

    def error_output(self) -> Any:
        """What a Catch writes at its ResultPath."""
        if self.output is not None:
            return copy.deepcopy(self.output)
        return {"Error": self.error, "Cause": self.cause}


class _FlowFail(Exception):
    """A Fail state: the run fails, no Catch applies."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error or "")
        self.error = error
        self.cause = cause


class RunLimitExceeded(_FlowFail):
    """A limit of the service was crossed: the run fails, no Catch applies (see :func:`state_size`)."""


def state_size(document: Any) -> int:
    """The size of a run's state document in bytes: its compact JSON, UTF-8 encoded.

    Compact (``separators=(",", ":")``, non-ASCII kept as UTF-8) so that whitespace or
    ``\\u`` escapes of the encoder never count against the limit; the Flows docs say
    only "the size of the state associated with your run".
    """
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


def evaluate_parameters(template: Any, document: Any, context: Mapping[str, Any] | None = None) -> Any:
    """Build a ``Parameters`` value against ``document`` (raises :class:`StateFailure`)."""
    return _build(template, document, context, "Parameters")


def _build(template: Any, document: Any, context: Mapping[str, Any] | None, where: str) -> Any:
    if isinstance(template, dict):
        out: Doc = {}
        for key, value in template.items():
            if isinstance(key, str) and key.endswith(".$") and key != ".$":
                try:
                    out[key[:-2]] = copy.deepcopy(jsonpath.get(document, value, context))
                except (jsonpath.PathNotFound, jsonpath.JSONPathError) as exc:
                    raise StateFailure("States.ParameterPathFailure", f"{where}[{key!r}]: {exc}") from None
            elif isinstance(key, str) and key.endswith(".=") and key != ".=":
                try:
                    out[key[:-2]] = expressions.evaluate(value, document, context)
                except expressions.ExpressionError as exc:
                    raise StateFailure("ExpressionEvaluationError", f"{where}[{key!r}] = {value!r}: {exc}") from None
            else:
                out[key] = _build(value, document, context, f"{where}[{key!r}]")
        return out
    if isinstance(template, list):
        return [_build(item, document, context, f"{where}[{i}]") for i, item in enumerate(template)]
    return copy.deepcopy(template)


def rule_matches(rule: Mapping[str, Any], document: Any, context: Mapping[str, Any] | None = None) -> bool:
    """Whether a Choice rule holds for ``document`` (raises :class:`StateFailure`).

    The evaluation is :func:`automate_lite.definitions.rules.rule_matches`, the one the
    validator's table describes; only its error becomes the state's failure here.
    """
    try:
        return _rule_matches(rule, document, context)
    except RuleError as exc:
        raise StateFailure(exc.error, str(exc)) from None


def _request_id(run_id: str, visit: int, state_name: str) -> str:
    digest = hashlib.sha256(state_name.encode()).hexdigest()[:16]
    return f"{run_id}_{visit}_{digest}"



def _catcher(state: Mapping[str, Any], error: str) -> Mapping[str, Any] | None:
    for catcher in state.get("Catch") or []:
        names = catcher.get("ErrorEquals") or []
        if error in names or "States.ALL" in names:
            return catcher  # type: ignore[no-any-return]
    return None
