"""Edges of the core (issue 14): endless paging, absurd timeouts, framing headers."""

from __future__ import annotations

import json

import pytest

import automate_lite as al
from automate_lite._core.config import check_timeout, headers_with
from automate_lite._core.http import Session, json_op
from automate_lite._core.paging import Pager
from automate_lite._core.values import Response
from automate_lite.errors import UnexpectedResponseError, UsageError


def test_paging_stops_on_endless_empty_pages() -> None:
    session = Session("https://flows.example.org")
    pager = Pager(lambda marker: json_op(session, "GET", "/runs", query={"marker": marker}), "runs")
    with pytest.raises(UnexpectedResponseError, match="pages in a row had no 'runs'"):
        for n in range(10_000):
            op = pager.next_page()
            next(op)
            page = {"runs": [], "has_next_page": True, "marker": f"m{n}"}
            try:
                op.send(Response(200, {}, json.dumps(page).encode()))
            except StopIteration:
                continue
    assert pager.done


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 1e300, -1, 0])
def test_absurd_http_timeout_is_a_usage_error(value: float) -> None:
    with pytest.raises(UsageError, match="http_timeout"):
        check_timeout(value)
    with pytest.raises(UsageError, match="http_timeout"):
        al.ActionClient("https://actions.example.org/hello", None, value)


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Host", "CONNECTION"])
def test_framing_headers_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="may not set"):
        headers_with({name: "1"})
