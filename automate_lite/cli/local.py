"""``automate-lite local``: the stand-ins of :mod:`automate_lite.testing` on 127.0.0.1, until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

from ._context import Context

__all__ = ["serve"]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes Ctrl-C's way out, so the servers stop cleanly either way.
    raise KeyboardInterrupt


def serve(ctx: Context) -> int:
    """Start FlowsStub, ActionProviderStub and AuthStub (auth off), print their URLs, serve."""
    from ..testing import ActionProviderStub, AuthStub, FlowsStub

    a = ctx.args
    started: list[Any] = []
    try:
        flows = FlowsStub(host=a.host, port=a.flows_port).start()
        started.append(flows)
        provider = ActionProviderStub(host=a.host, port=a.provider_port).start()
        started.append(provider)
        auth = AuthStub(host=a.host, port=a.auth_port).start()
        started.append(auth)
        urls = {"flows": flows.url, "action_provider": provider.url, "auth": auth.url}
        if ctx.out.json:
            ctx.out.document(urls)
        else:
            print(f"flows            {flows.url}")
            print(f"action provider  {provider.url}")
            print(f"auth             {auth.url}")
            print(f"\nexport GLOBUS_SDK_SERVICE_URL_FLOWS={flows.url}")
            print(f"automate-lite action introspect {provider.url}")
            print("serving on loopback until Ctrl-C")
        sys.stdout.flush()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        stop = threading.Event()
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for service in reversed(started):
            service.stop()
    return 0
