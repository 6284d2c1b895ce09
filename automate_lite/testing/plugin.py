"""pytest fixtures for testing your own flows and providers offline.

Installed with ``pip install 'automate-lite[testing]'``, pytest loads this plugin by
itself (a ``pytest11`` entry point); ``-p automate_lite.testing.plugin`` loads it
from a checkout. Each fixture is fresh for each test and everything listens on
127.0.0.1 only:

=============================  ==============================================================
``automate_local``             a running :class:`~automate_lite.testing.LocalGlobus`: the local
                               Flows service, its ActionUrls mapped to the stand-in providers
``automate_providers``         its :class:`~automate_lite.testing.providers.LocalProviders`
                               (``.transfer``, ``.compute.register(fn)``, ``.search``,
                               ``.notifications.messages``, ``.weboption.select(...)``)
``automate_flows``             a :class:`~automate_lite.FlowsClient` for the local service
``automate_async_flows``       a factory: ``async with automate_async_flows() as flows:``
                               (an :class:`~automate_lite.AsyncFlowsClient` made in your loop)
``automate_action_provider``   a factory: ``url = automate_action_provider(fn, name=None,
                               url=None)`` serves ``fn(body) -> details`` as an Action Provider
``automate_action_client``     a factory: ``automate_action_client(url)`` is an
                               :class:`~automate_lite.ActionClient` for a public or local URL
``automate_collection``        a factory: ``automate_collection("src", files={"a.txt": "hi"})``
                               makes a directory under ``tmp_path`` served as a Transfer
                               collection; returns ``.id`` and ``.path``
``automate_canned``            a :class:`~automate_lite.testing.canned.CannedTransport` (no sockets;
                               ``.aio`` for async clients)
=============================  ==============================================================
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, NamedTuple

import pytest

if TYPE_CHECKING:
    from automate_lite import ActionClient, AsyncFlowsClient, FlowsClient

    from .canned import CannedTransport
    from .providers import LocalProviders
    from .providers.services import LocalGlobus


class Collection(NamedTuple):
    """A local directory served as a Transfer collection."""

    id: str
    path: Path


@pytest.fixture
def automate_local() -> Iterator["LocalGlobus"]:
    """The local Flows service and stand-in providers, started for this test."""
    from .providers.services import LocalGlobus

    with LocalGlobus() as local:
        yield local


@pytest.fixture
def automate_providers(automate_local: "LocalGlobus") -> "LocalProviders":
    """The stand-in providers the local Flows service's Action states reach."""
    return automate_local.providers


@pytest.fixture
def automate_flows(automate_local: "LocalGlobus") -> Iterator["FlowsClient"]:
    """A FlowsClient for the local Flows service."""
    with automate_local.flows_client() as client:
        yield client


@pytest.fixture
def automate_async_flows(automate_local: "LocalGlobus") -> Callable[..., "AsyncFlowsClient"]:
    """Makes an AsyncFlowsClient for the local service; use it as ``async with factory() as flows``."""
    return automate_local.async_flows_client


@pytest.fixture
def automate_action_provider(automate_providers: "LocalProviders") -> Callable[..., str]:
    """Serves a Python callable as an Action Provider; returns its local URL."""
    def register(function: Callable[[dict[str, Any]], Any], name: str | None = None, url: str | None = None,
                 **options: Any) -> str:
        return automate_providers.register(function, name=name, url=url, **options)

    return register


@pytest.fixture
def automate_action_client(automate_local: "LocalGlobus") -> Iterator[Callable[..., "ActionClient"]]:
    """Makes ActionClients for providers by public or local URL (closed after the test)."""
    made: list[ActionClient] = []

    def make(action_url: str, **options: Any) -> "ActionClient":
        client = automate_local.action_client(action_url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def automate_collection(automate_providers: "LocalProviders", tmp_path: Path) -> Callable[..., Collection]:
    """Makes ``tmp_path/<name>`` (with ``files``: relative path -> text or bytes) a Transfer collection."""
    def make(name: str, files: Mapping[str, str | bytes] | None = None, collection_id: str | None = None) -> Collection:
        root = tmp_path / "collections" / name
        for rel, content in (files or {}).items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        cid = automate_providers.transfer.add_collection(os.fspath(root), collection_id)
        return Collection(cid, root)

    return make


@pytest.fixture
def automate_canned() -> "CannedTransport":
    """A canned-response transport for unit tests without sockets."""
    from .canned import CannedTransport

    return CannedTransport()
