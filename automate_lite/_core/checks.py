"""The argument checks both operation families share (Action Providers and Flows).

One function per kind of argument, so ``ActionClient.run(manage_by="urn:...")`` and
``FlowsClient.run_flow(run_managers="urn:...")`` are refused with the same sentence,
and a run body is built the same way wherever it is sent.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..errors import UsageError
from .http import encode_json
from .values import MISSING

__all__ = [
    "given",
    "shown",
    "string_list",
    "comma",
    "check_str",
    "check_mapping",
    "check_positive_int",
    "request_id_of",
    "check_query_params",
    "merge_fields",
]

IDENTITY_EXAMPLE = "['urn:globus:auth:identity:<uuid>']"


def shown(value: object) -> str:
    """``repr(value)`` cut short, for error messages: a huge or 200,000-deep argument
    gives a readable sentence, not a ``RecursionError`` or a page of brackets."""
    import reprlib  # only when a message is being written

    short = reprlib.Repr()  # attributes, not keywords: Repr takes keywords only from 3.12
    short.maxlevel, short.maxstring, short.maxother = 3, 80, 80
    return short.repr(value)


def given(value: object) -> bool:
    """Neither :data:`MISSING` nor ``None``."""
    return value is not MISSING and value is not None


def string_list(value: object, argument: str, example: str = IDENTITY_EXAMPLE) -> list[str]:
    """``value`` (a list, tuple, set... of strings or UUIDs) as a list of strings.

    A bare string is refused: ``"urn:..."`` would otherwise be sent as one principal
    by some callers and as a list of characters by others.
    """
    if isinstance(value, (str, bytes)) or isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise UsageError(f"{argument} must be a list of strings such as {example}, got {shown(value)}")
    items = list(value)
    for item in items:
        if not isinstance(item, str) and type(item).__name__ != "UUID":
            raise UsageError(f"{argument} must hold strings such as {example}, found {shown(item)}")
    return [str(item) for item in items]


def comma(value: object, argument: str) -> str | None:
    """A query value joined with commas, from a string or a list (None when not given)."""
    if not given(value):
        return None
    if isinstance(value, str):
        return value
    return ",".join(string_list(value, argument, "['a', 'b'] or 'a,b'"))


def check_str(value: object, argument: str) -> None:
    """A string, or not given."""
    if given(value) and not isinstance(value, str):
        raise UsageError(f"{argument} must be a string, got {shown(value)}")


def check_mapping(value: object, argument: str) -> None:
    """A dict, or not given."""
    if given(value) and not isinstance(value, Mapping):
        raise UsageError(f"{argument} must be a dict, got {type(value).__name__}")


def check_positive_int(value: object, argument: str) -> None:
    """An int >= 1, or not given."""
    if given(value) and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UsageError(f"{argument} must be an int >= 1, got {shown(value)}")


def request_id_of(value: object) -> str:
    """The caller's ``request_id``, or a fresh uuid4 (what makes a retried run safe)."""
    import uuid  # imported on the first run, not by `import automate_lite`

    if value is None or value is MISSING:
        return str(uuid.uuid4())
    if not isinstance(value, (str, uuid.UUID)) or not str(value).strip():
        raise UsageError(f"request_id must be a non-empty string, got {shown(value)}")
    return str(value)


def check_query_params(value: object) -> list[tuple[str, Any]]:
    """``query_params=``: extra query parameters, sent after the method's own."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise UsageError(f"query_params must be a dict of names to values, got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise UsageError(f"query_params names must be strings, got {key!r}")
    return list(value.items())


def merge_fields(doc: dict[str, Any], additional_fields: object) -> dict[str, Any]:
    """``additional_fields=``: more body fields, merged over the method's own."""
    if additional_fields is None:
        return doc
    check_mapping(additional_fields, "additional_fields")
    assert isinstance(additional_fields, Mapping)
    if "request_id" in additional_fields and "request_id" in doc:
        # The request_id is what makes a retried run safe: an empty or null one would be
        # retried as if it were a key, and could start a second run.
        rid = additional_fields["request_id"]
        if not isinstance(rid, str) or not rid.strip():
            raise UsageError(f"additional_fields['request_id'] must be a non-empty string, got {shown(rid)}: "
                             "pass request_id=... instead, or leave it out to get a fresh uuid4")
    encode_json(dict(additional_fields), "additional_fields")
    doc.update(additional_fields)
    return doc


def run_document(
    body: object,
    body_argument: str,
    request_id: object,
    label: object,
    tags: object,
    monitors: tuple[str, object],
    managers: tuple[str, object],
) -> dict[str, Any]:
    """The fields every run request shares, checked one way for actions and flows.

    ``monitors``/``managers`` are ``(field name, value)``: ``monitor_by`` for an Action
    Provider, ``run_monitors`` for Flows.
    """
    if not isinstance(body, Mapping):
        raise UsageError(f"{body_argument} must be a dict (the input), got {type(body).__name__}")
    check_str(label, "label")
    doc: dict[str, Any] = {"request_id": request_id_of(request_id), "body": dict(body)}
    if given(label):
        doc["label"] = label
    if given(tags):
        doc["tags"] = string_list(tags, "tags", "['nightly', 'project-x']")
    for name, value in (monitors, managers):
        if given(value):
            doc[name] = string_list(value, name)
    return doc
