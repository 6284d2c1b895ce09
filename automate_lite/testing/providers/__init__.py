"""Stand-ins for the Action Providers real flows call, on one loopback port.

:class:`LocalProviders` serves Transfer (transfer, delete, ls, stat, mkdir on local
directories), Compute (registered Python functions), Search ingest/delete,
notification, expression evaluation and wait-for-user-selection, each at its public
host and path below one local URL, plus providers made from your own functions::

    with LocalProviders() as providers:
        src = providers.transfer.add_collection(tmp_path / "src")
        fid = providers.compute.register(lambda n: n * 2)
        url = providers.register(lambda body: {"seen": body}, name="echo")
        providers.url_for("https://transfer.actions.globus.org/transfer")
        # -> http://127.0.0.1:PORT/transfer.actions.globus.org/transfer

**The URL mapping.** ``https://<host>/<path>`` of a public provider is served at
``<providers.url>/<host>/<path>``; :meth:`LocalProviders.url_for` (also the object
:attr:`LocalProviders.map_url`) turns one into the other and leaves any other URL as
it is. Give it to the Flows stand-in (``FlowsStub(action_urls=providers.map_url)``,
which :class:`automate_lite.testing.LocalGlobus` does for you) and an unmodified
definition naming ``https://actions.globus.org/...``, ``https://transfer.actions.globus.org/...``
or ``https://compute.actions.globus.org`` runs against these stand-ins.
:meth:`LocalProviders.register` may also claim a public URL of your own provider.

Each stand-in's inputs and outputs are in its module's docstring
(:mod:`.transfer`, :mod:`.compute`, :mod:`.hosted`).
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from .._server import Served
from ._base import Action, ActionFailed, Pending, ProviderHost, ProviderSpec
from .compute import ComputeStandIn
from .hosted import ExpressionEvalStandIn, NotificationStandIn, SearchStandIn, WebOptionStandIn
from .transfer import TransferStandIn

__all__ = [
    "LocalProviders",
    "ActionFailed",
    "Pending",
    "Action",
    "ProviderSpec",
    "TransferStandIn",
    "ComputeStandIn",
    "SearchStandIn",
    "NotificationStandIn",
    "ExpressionEvalStandIn",
    "WebOptionStandIn",
    "HOSTED_HOSTS",
]

#: The public hosts whose providers are stood in for.
HOSTED_HOSTS = ("actions.globus.org", "transfer.actions.globus.org", "compute.actions.globus.org")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class LocalProviders(Served):
    """Every stand-in provider on ``host:port`` (port 0: a free one), served in a thread.

    Attributes:
        transfer: collections and the Transfer providers (:class:`TransferStandIn`).
        compute: registered functions (:class:`ComputeStandIn`).
        search: indexes in memory (:class:`SearchStandIn`).
        notifications: recorded messages (:class:`NotificationStandIn`).
        weboption: pending selections (:class:`WebOptionStandIn`).
        host: the :class:`~._base.ProviderHost` (``host.actions``: every action).

    ``collections`` maps collection ids to directories to serve from the start.
    Usable with ``with`` and ``async with`` (starting and stopping off the event loop).
    """

    def __init__(self, *, collections: Mapping[str, Any] | None = None, tokens: Mapping[str, str] | None = None,
                 host: str = "127.0.0.1", port: int = 0, clock: Callable[[], float] = time.time) -> None:
        self.host = ProviderHost(tokens=tokens, host=host, port=port, clock=clock)
        self.server = self.host.server
        self.transfer = TransferStandIn()
        self.compute = ComputeStandIn()
        self.search = SearchStandIn()
        self.notifications = NotificationStandIn()
        self.expression_eval = ExpressionEvalStandIn()
        self.weboption = WebOptionStandIn(self.host)
        # longest paths first: /compute.actions.globus.org/v3 before /compute.actions.globus.org
        specs = [*self.transfer.specs(), *self.compute.specs(), *self.search.specs(),
                 *self.notifications.specs(), *self.expression_eval.specs(), *self.weboption.specs()]
        for spec in sorted(specs, key=lambda s: -len(s.path)):
            self.host.mount(spec)
        self._claimed: dict[str, str] = {}
        for cid, directory in (collections or {}).items():
            self.transfer.add_collection(directory, cid)

    # -- lifecycle -----------------------------------------------------------------------

    # url (the base every stand-in is mounted below), start, stop, serve_forever and
    # ``with`` come from Served, over the host's server.

    async def __aenter__(self) -> "LocalProviders":
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # -- URLs ----------------------------------------------------------------------------

    def url_for(self, action_url: str) -> str:
        """The local URL standing in for ``action_url``; any other URL comes back unchanged."""
        key = action_url.rstrip("/")
        if key in self._claimed:
            return self._claimed[key]
        parts = urlsplit(key)
        if parts.scheme == "https" and parts.hostname in HOSTED_HOSTS and not parts.query:
            return f"{self.url}/{parts.hostname}{parts.path}"
        return action_url

    @property
    def map_url(self) -> Callable[[str], str]:
        """:meth:`url_for` as a plain function (what ``FlowsStub(action_urls=...)`` takes)."""
        return self.url_for

    # -- your own providers --------------------------------------------------------------

    def register(self, function: Callable[[dict[str, Any]], Any], *, name: str | None = None,
                 url: str | None = None, input_schema: Mapping[str, Any] | None = None,
                 synchronous: bool = True) -> str:
        """Serve ``function`` as an Action Provider; returns its local action URL.

        ``function(body)`` is called for each action: its return value (JSON) is the
        SUCCEEDED action's ``details``; raising :class:`ActionFailed` ends it FAILED
        with that code; another exception ends it FAILED with code
        ``UnhandledException``; returning :class:`Pending` keeps it ACTIVE until
        ``providers.host.complete(action_id, details)``. The provider is mounted at
        ``/custom/<name>`` (``name`` defaults to the function's name). With ``url``,
        that public URL maps to it too, so a definition naming it runs unchanged.
        """
        if not callable(function):
            raise TypeError(f"register() takes a callable, not {type(function).__name__}")
        if name is None:
            # a lambda or a second function of the same name still gets a path of its own
            base = re.sub(r"[^A-Za-z0-9_.-]+", "", getattr(function, "__name__", "")) or "provider"
            label, n = base[:56], 1
            while f"/custom/{label}" in self.host.specs:
                n += 1
                label = f"{base[:56]}-{n}"
        elif not _NAME.match(name):
            raise ValueError(f"provider name {name!r} must be 1-64 letters, digits, '_', '.' or '-'")
        else:
            label = name

        def handler(body: dict[str, Any], action: Action) -> Any:
            return function(body)

        local = self.host.mount(ProviderSpec(f"/custom/{label}", label, handler,
                                             dict(input_schema or {"type": "object"}), synchronous))
        if url is not None:
            self._claimed[url.rstrip("/")] = local
        return local
