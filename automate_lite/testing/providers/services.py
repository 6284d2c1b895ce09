"""The local Flows service and the stand-in providers together, wired to each other.

::

    with LocalGlobus(collections={"src-id": "data/in", "dst-id": "data/out"}) as local:
        flows = local.flows_client()                    # a FlowsClient for the local service
        flow = flows.deploy_flow(definition, title="t") # ActionUrls as published
        run = flows.run_flow(flow["id"], None, {...})
        flows.wait_for_run(run["run_id"], timeout=30)

    async with LocalGlobus() as local:                  # started off the event loop
        async with local.async_flows_client() as flows:
            ...

Auth is off (any caller is the Flows stand-in's default identity); pass ``tokens=``
and the other :class:`~automate_lite.testing.flows.FlowsStub` options as keywords.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Mapping

from . import LocalProviders

if TYPE_CHECKING:
    from automate_lite import ActionClient, AsyncActionClient, AsyncFlowsClient, FlowsClient

    from ..flows import FlowsStub

__all__ = ["LocalGlobus"]


class LocalGlobus:
    """A :class:`~automate_lite.testing.FlowsStub` whose Action states reach :class:`LocalProviders`.

    Attributes:
        providers: the stand-in providers (collections, functions, recorded messages).
        flows: the Flows stand-in (``flows.state`` for what it recorded).
    """

    def __init__(self, *, collections: Mapping[str, Any] | None = None, **flows_options: Any) -> None:
        from ..flows import FlowsStub

        self.providers = LocalProviders(collections=collections)
        flows_options.setdefault("action_poll", (0.01, 0.1))
        self.flows: FlowsStub = FlowsStub(action_urls=self.providers.map_url, **flows_options)

    @property
    def flows_url(self) -> str:
        """The local Flows service's base URL."""
        return self.flows.url

    def start(self) -> "LocalGlobus":
        """Start the providers, then the Flows service; returns ``self``."""
        self.providers.start()
        try:
            self.flows.start()
        except BaseException:
            self.providers.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the Flows service (cancelling runs still going), then the providers."""
        try:
            self.flows.stop()
        finally:
            self.providers.stop()

    def __enter__(self) -> "LocalGlobus":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> "LocalGlobus":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # -- clients -------------------------------------------------------------------------

    def flows_client(self, **options: Any) -> "FlowsClient":
        """A :class:`~automate_lite.FlowsClient` for the local service (no tokens needed)."""
        from automate_lite import FlowsClient

        return FlowsClient.new_client(None, None, None, base_url=self.flows.url, **options)

    def async_flows_client(self, **options: Any) -> "AsyncFlowsClient":
        """An :class:`~automate_lite.AsyncFlowsClient` for the local service; make it in your event loop."""
        from automate_lite import AsyncFlowsClient

        return AsyncFlowsClient.new_client(None, None, None, base_url=self.flows.url, **options)

    def action_client(self, action_url: str, **options: Any) -> "ActionClient":
        """An :class:`~automate_lite.ActionClient` for a provider, by its public or local URL."""
        from automate_lite import ActionClient

        return ActionClient.new_client(self.providers.url_for(action_url), None, **options)

    def async_action_client(self, action_url: str, **options: Any) -> "AsyncActionClient":
        """The async twin of :meth:`action_client`; make it in your event loop."""
        from automate_lite import AsyncActionClient

        return AsyncActionClient.new_client(self.providers.url_for(action_url), None, **options)
