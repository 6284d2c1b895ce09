"""Reading requests to the local Flows service: bodies, query arguments, paging, run scripts."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timezone
from typing import Sequence

from .._server import StubRequest
from .store import (
    Doc, Json, RunScript, _EVERYONE, _OUTCOMES, _PER_PAGE_DEFAULT, _PER_PAGE_MAX, _URN_PREFIXES,
    _unprocessable,
)


def _definition_problems(definition: Json, loc_prefix: Sequence[str]) -> list[Doc]:
    """Detail items for an invalid definition (empty when valid)."""
    # Imported here: the stand-ins load without the package until a definition is checked.
    from automate_lite.definitions.validation import flow_definition_problems

    return [
        {"loc": [*loc_prefix, *problem.loc], "msg": problem.message, "type": "value_error"}
        for problem in flow_definition_problems(definition)
    ]


# ----------------------------------------------------------------------------- state




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
