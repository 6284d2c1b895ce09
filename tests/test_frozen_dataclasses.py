"""RetryPolicy, Session and PollSettings are frozen, slotted dataclasses (issue 11): the
hand-written ``Frozen`` machinery is gone; ``FrozenError`` stays for the tuple values."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

import automate_lite as al
from automate_lite import FrozenError, Request, Response, RetryPolicy, Session
from automate_lite._core import values
from automate_lite._core.paging import PollSettings, check_poll_args


@pytest.mark.parametrize(
    "value",
    [RetryPolicy(), Session("https://x.org/ap", retry=RetryPolicy(deadline=5)), check_poll_args(10, 1.0, 4.0)],
    ids=["RetryPolicy", "Session", "PollSettings"],
)
def test_settings_are_frozen_slotted_dataclasses(value: Any) -> None:
    assert dataclasses.is_dataclass(value)
    assert not hasattr(value, "__dict__")  # slotted
    name = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, name, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(value, name)
    assert dataclasses.replace(value) == value
    assert copy.deepcopy(value) == value
    assert pickle.loads(pickle.dumps(value)) == value


def test_session_keeps_its_token_decision_and_hides_the_authorizer() -> None:
    token = al.BearerTokenAuthorizer("secret-token-value")
    plain = Session("http://service.example.org", token)
    assert plain._token_ok is False
    assert Session("http://127.0.0.1:9", token)._token_ok is True
    allowed = dataclasses.replace(plain, allow_insecure_http=True)
    assert allowed._token_ok is True  # recomputed for the copy
    assert "secret-token-value" not in repr(plain) and "BearerTokenAuthorizer" in repr(plain)
    assert [f.name for f in dataclasses.fields(Session) if f.init] == [
        "base_url", "authorizer", "headers", "retry", "allow_insecure_http", "auth_requirements_handler",
    ]
    assert plain == Session("http://service.example.org", token)  # _token_ok is not compared


def test_retry_policy_fields_and_checks() -> None:
    assert [f.name for f in dataclasses.fields(RetryPolicy)] == [
        "max_attempts", "backoff_base", "backoff_max", "retry_after_max", "statuses", "deadline",
    ]
    assert hash(RetryPolicy()) == hash(RetryPolicy())
    for bad in ({"max_attempts": 0}, {"max_attempts": 1.5}, {"backoff_base": -1}, {"backoff_max": float("nan")}):
        with pytest.raises(al.UsageError):
            RetryPolicy(**bad)


def test_poll_settings_is_the_checked_result() -> None:
    assert check_poll_args(None, 1, 2) == PollSettings(None, 1.0, 2.0)


def test_frozen_machinery_is_retired_but_values_still_refuse_assignment() -> None:
    assert not hasattr(values, "Frozen")
    req = Request("GET", "https://x.org", {})
    with pytest.raises(FrozenError):
        req.method = "POST"  # type: ignore[misc]
    with pytest.raises(FrozenError):
        Response(200, {}).status = 500  # type: ignore[misc]
