"""Arguments that must be refused up front (issue 14): no RecursionError, no hang, and no
empty or null ``request_id`` treated as an idempotency key."""

from __future__ import annotations

from typing import Any

import pytest

from automate_lite import ActionClient, FlowsClient
from automate_lite.definitions.validation import MAX_NESTING, flow_definition_problems
from automate_lite.errors import UsageError

FLOW_ID = "00000000-0000-4000-8000-000000000001"
# Port 9 on loopback: nothing listens, and nothing may be sent before the check.
NOWHERE = "http://127.0.0.1:9"


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.fixture()
def fc() -> FlowsClient:
    return FlowsClient.new_client("client", None, None, base_url=NOWHERE)


@pytest.mark.parametrize("extra", [{"request_id": None}, {"request_id": ""}, {"request_id": "  "},
                                   {"request_id": 7}])
def test_run_flow_refuses_an_empty_or_null_request_id_in_additional_fields(fc: FlowsClient, extra: Any) -> None:
    with pytest.raises(UsageError, match=r"additional_fields\['request_id'\] must be a non-empty string"):
        fc.run_flow(FLOW_ID, None, {}, additional_fields=extra)


@pytest.mark.parametrize("rid", ["", "   "])
def test_run_flow_and_action_run_refuse_a_blank_request_id(fc: FlowsClient, rid: str) -> None:
    with pytest.raises(UsageError, match="request_id must be a non-empty string"):
        fc.run_flow(FLOW_ID, None, {}, request_id=rid)
    with pytest.raises(UsageError, match="request_id must be a non-empty string"):
        ActionClient.new_client(NOWHERE, None).run({}, request_id=rid)


def test_action_run_refuses_a_null_request_id_in_additional_fields() -> None:
    with pytest.raises(UsageError, match=r"additional_fields\['request_id'\]"):
        ActionClient.new_client(NOWHERE, None).run({}, additional_fields={"request_id": None})


def test_a_very_deep_tags_argument_is_a_usage_error(fc: FlowsClient) -> None:
    with pytest.raises(UsageError, match="tags must hold strings") as info:
        fc.run_flow(FLOW_ID, None, {}, tags=deep(200_000))
    assert len(str(info.value)) < 300


@pytest.mark.parametrize("name", ["flow_viewers", "flow_starters", "flow_administrators", "keywords"])
def test_non_iterable_principal_lists_are_usage_errors(fc: FlowsClient, name: str) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    with pytest.raises(UsageError, match=f"{name} must be a list of strings"):
        fc.deploy_flow(definition, "t", **{name: 5})


def test_a_200000_deep_parameter_is_one_problem_not_a_hang(fc: FlowsClient) -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": deep(200_000)}, "End": True}}}
    problems = flow_definition_problems(definition)
    assert [p.rule for p in problems] == ["json"]
    assert f"more than {MAX_NESTING} levels" in problems[0][1]
    with pytest.raises(UsageError, match="levels deep"):
        fc.deploy_flow(definition, "t")


def test_nesting_within_the_bound_is_accepted() -> None:
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x": deep(MAX_NESTING - 2)},
                                                   "End": True}}}
    assert flow_definition_problems(definition) == []
