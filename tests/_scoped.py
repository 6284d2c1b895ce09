"""Stand-ins that tell a service token from a flow token, for the tests of which token
each legacy method sends (test_compat_018, test_flow_bindings).

Import the fixtures ``service`` and ``provider`` into a test module to use them."""

from __future__ import annotations

from typing import Iterator

import pytest

import automate_lite as al
from automate_lite.testing.action_provider import ActionProviderStub
from automate_lite.testing.flows import FlowsStub

SERVICE_TOKEN = "svc-alice"
FLOW_TOKEN = "flow-alice"
ALICE = "urn:globus:auth:identity:aaaaaaaa-0000-0000-0000-000000000001"
BOB = "urn:globus:auth:identity:bbbbbbbb-0000-0000-0000-000000000002"
HELLO = {"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Parameters": {"greeting.$": "$.echo_string"},
                                                  "ResultPath": "$.out", "End": True}}}
# Scopes under this prefix are the Flows service's own (RUN_STATUS_SCOPE, ...); others are a flow's.
SERVICE_PREFIX = al.RUN_STATUS_SCOPE.rsplit("/", 1)[0] + "/"


@pytest.fixture(scope="module")
def service() -> Iterator[FlowsStub]:
    """A Flows stand-in that takes SERVICE_TOKEN on service routes and FLOW_TOKEN on a flow's."""
    with FlowsStub(tokens={SERVICE_TOKEN: ALICE}, flow_tokens={FLOW_TOKEN: ALICE}) as stub:
        yield stub


@pytest.fixture(scope="module")
def provider() -> Iterator[ActionProviderStub]:
    """The hello-world Action Provider stand-in at ``/hello_world``, taking SERVICE_TOKEN."""
    with ActionProviderStub(tokens={SERVICE_TOKEN: ALICE}, prefix="/hello_world") as stub:
        yield stub
