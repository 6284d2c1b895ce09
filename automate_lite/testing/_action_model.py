"""The actions an :class:`~automate_lite.testing.action_provider.ActionProviderStub` keeps, and the checks of a run request."""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Callable, Mapping

from ._server import Reply

_RUN_KEYS = frozenset(
    {"request_id", "body", "label", "tags", "manage_by", "monitor_by", "release_after"}
)
_STATUSES = ("ACTIVE", "INACTIVE", "SUCCEEDED", "FAILED")
_ROLES = ("creator_id", "monitor_by", "manage_by")
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})
_DEFAULT_LOG_LIMIT = 10
_MAX_LOG_LIMIT = 1000
_REQUEST_HISTORY = 1000  # bounded so benchmark runs do not grow memory without limit

#: The Action Provider API's routes: (method, path below the provider's URL, operation).
#: Newer routes first: ``/actions/...`` before ``/{action_id}/...``, so a path like
#: ``/actions/log`` is never read as action ``actions``. Both the single-provider stub
#: and the provider host serve exactly these; ``operation`` names the handler.
AP_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "", "introspect"),
    ("GET", "/actions", "list_actions"),
    ("POST", "/actions", "run"),
    ("GET", "/actions/{action_id}", "status"),
    ("DELETE", "/actions/{action_id}", "release"),
    ("POST", "/actions/{action_id}/cancel", "cancel"),
    ("POST", "/actions/{action_id}/resume", "resume"),
    ("GET", "/actions/{action_id}/log", "log"),
    ("POST", "/run", "run"),
    ("GET", "/{action_id}/status", "status"),
    ("POST", "/{action_id}/cancel", "cancel"),
    ("POST", "/{action_id}/release", "release"),
    ("POST", "/{action_id}/resume", "resume"),
    ("GET", "/{action_id}/log", "log"),
)


class ProviderError(Exception):
    """An error answered in the Action Provider shape ``{"code", "description"}``."""

    def __init__(self, status: int, code: str, description: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code
        self.description = description
        self.headers = dict(headers or {})

    def reply(self) -> Reply:
        """The HTTP answer for this error."""
        return Reply.json({"code": self.code, "description": self.description},
                          self.status, self.headers)


def _invalid(description: str) -> ProviderError:
    return ProviderError(422, "ValidationError", description)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).isoformat()


def _is_duration(value: object) -> bool:
    # bool is an int subclass, but JSON true is not a number
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value >= 0


def _status_code(status: int) -> str:
    """An error code from the HTTP reason phrase: 503 -> ``ServiceUnavailable``."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "")
    except ValueError:
        return f"Error{status}"


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


@dataclass
class _Action:
    action_id: str
    creator_id: str
    request_id: str
    fingerprint: str
    body: dict[str, Any]
    label: str | None
    monitor_by: list[str] | None
    manage_by: list[str] | None
    release_after: Any
    sleep_s: float
    fail: bool
    echo_string: str
    start: float
    status: str
    details: dict[str, Any]
    active_since: float | None = None
    completion: float | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def add_log(self, t: float, code: str, description: str,
                details: dict[str, Any] | None = None) -> None:
        self.log.append({"time": _iso(t), "code": code, "description": description,
                         "details": details or {}})

    def advance(self, now: float) -> None:
        """Bring the lazily computed lifecycle up to ``now``."""
        if self.status != "ACTIVE" or self.active_since is None:
            return
        end = self.active_since + self.sleep_s
        if now < end:
            return
        # the completion is stamped when it happened, not when it was noticed
        self.completion = end
        if self.fail:
            self.status = "FAILED"
            self.details = {"code": "ActionFailed",
                            "description": "The action failed because its input asked it to."}
            self.add_log(end, "ActionFailed", "Action failed", self.details)
        else:
            self.status = "SUCCEEDED"
            self.details = {"echo_string": self.echo_string, "result": copy.deepcopy(self.body)}
            self.add_log(end, "ActionSucceeded", "Action succeeded")

    @property
    def finished(self) -> bool:
        return self.status in ("SUCCEEDED", "FAILED")

    def can_see(self, identity: str) -> bool:
        return (identity == self.creator_id or identity in (self.monitor_by or ())
                or identity in (self.manage_by or ()))

    def can_manage(self, identity: str) -> bool:
        return identity == self.creator_id or identity in (self.manage_by or ())

    def has_role(self, identity: str, role: str) -> bool:
        if role == "creator_id":
            return identity == self.creator_id
        return identity in (getattr(self, role) or ())

    def document(self) -> dict[str, Any]:
        """The ActionStatus document (a copy: it leaves the lock)."""
        return copy.deepcopy({
            "action_id": self.action_id,
            "status": self.status,
            "display_status": self.status,
            "creator_id": self.creator_id,
            "label": self.label,
            "monitor_by": self.monitor_by,
            "manage_by": self.manage_by,
            "start_time": _iso(self.start),
            "completion_time": None if self.completion is None else _iso(self.completion),
            "release_after": self.release_after,
            "details": self.details,
        })


def _encode_marker(offset: int, reverse: bool) -> str:
    raw = json.dumps({"o": offset, "r": reverse}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_marker(marker: str) -> tuple[int, bool]:
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
        data = json.loads(raw)
        offset, reverse = data["o"], data["r"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise _invalid(f"invalid marker {marker!r}") from None
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 \
            or not isinstance(reverse, bool):
        raise _invalid(f"invalid marker {marker!r}")
    return offset, reverse


def _validate_input(body: object) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("body must be a JSON object")
    checks: dict[str, tuple[Callable[[object], bool], str]] = {
        "echo_string": (lambda v: isinstance(v, str), "a string"),
        "sleep_s": (_is_duration, "a number >= 0"),
        "fail": (lambda v: isinstance(v, bool), "a boolean"),
        "require_resume": (lambda v: isinstance(v, bool), "a boolean"),
        "error_status": (lambda v: isinstance(v, int) and not isinstance(v, bool)
                         and 400 <= v <= 599, "an integer from 400 to 599"),
    }
    for name, (ok, what) in checks.items():
        if name in body and not ok(body[name]):
            raise _invalid(f"body.{name} must be {what}, not {json.dumps(body[name])}")
    return body


def _validate_run(doc: object) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _invalid("the run request must be a JSON object")
    unknown = sorted(set(doc) - _RUN_KEYS)
    if unknown:
        raise _invalid(f"unknown field(s) in the run request: {', '.join(unknown)}")
    if "body" not in doc:
        raise _invalid("body is required")
    rid = doc.get("request_id")
    if rid is not None and not (isinstance(rid, str) and rid):
        raise _invalid("request_id must be a non-empty string")
    if doc.get("label") is not None and not isinstance(doc["label"], str):
        raise _invalid("label must be a string")
    for name in ("tags", "manage_by", "monitor_by"):
        if doc.get(name) is not None and not _is_str_list(doc[name]):
            raise _invalid(f"{name} must be a list of strings")
    ra = doc.get("release_after")
    if ra is not None and not (isinstance(ra, str) or _is_duration(ra)):
        raise _invalid("release_after must be a number of seconds >= 0 or an ISO 8601 duration")
    _validate_input(doc["body"])
    return doc

