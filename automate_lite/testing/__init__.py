"""Local stand-ins for Globus services, for offline runs and for tests.

Everything here listens on ``127.0.0.1`` (port 0 unless told otherwise), is usable
in-process from sync and async code, and stops cleanly::

    from automate_lite.testing import FlowsStub, ActionProviderStub

    with ActionProviderStub() as provider, FlowsStub() as flows:
        flows.url          # http://127.0.0.1:PORT, the local Flows service
        provider.url       # an Action Provider

* :class:`FlowsStub`: the Flows service; runs execute their definition for real, within
  the Globus Flows limits (:class:`FlowLimits`: run state size, run duration, run
  retention, optionally the free-tier flow limits).
* :class:`ActionProviderStub`: an Action Provider (both route styles).
* :class:`AuthStub`: Globus Auth (native-app login, refresh, revoke, introspect).
* :class:`FaultServer`: a proxy that injects network faults between client and service.
* :class:`LocalProviders`: stand-ins for the providers real flows call (Transfer on
  local directories, Compute running your functions, Search, notification,
  expression evaluation, web options) at their public paths, and your own functions
  as providers (:mod:`automate_lite.testing.providers`).
* :class:`LocalGlobus`: a :class:`FlowsStub` and :class:`LocalProviders` wired together,
  so a definition naming ``https://transfer.actions.globus.org/...`` runs unchanged.
* :class:`CannedTransport`: answers from registered responses, for unit tests without
  sockets (:mod:`automate_lite.testing.canned`).
* a pytest plugin with fixtures for all of this (:mod:`automate_lite.testing.plugin`).

Every server has ``url``, ``start()``, ``stop()`` and ``with``; :class:`LocalProviders`
and :class:`LocalGlobus` also ``async with`` (starting and stopping off the event loop).
From a shell: ``python -m automate_lite.testing flows|action-provider|auth|providers``.
Nothing in the rest of the package imports this one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .action_provider import ActionProviderStub
    from .auth import AuthStub
    from .faults import FaultServer
    from .canned import CannedTransport
    from .flows import FlowLimits, FlowsStub
    from .providers import LocalProviders
    from .providers.services import LocalGlobus

_LAZY = {
    "ActionProviderStub": "action_provider",
    "AuthStub": "auth",
    "CannedTransport": "canned",
    "FaultServer": "faults",
    "FlowsStub": "flows",
    "FlowLimits": "flows",
    "LocalGlobus": "providers.services",
    "LocalProviders": "providers",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automate_lite.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = ["ActionProviderStub", "AuthStub", "CannedTransport", "FaultServer", "FlowLimits", "FlowsStub",
           "LocalGlobus", "LocalProviders"]
