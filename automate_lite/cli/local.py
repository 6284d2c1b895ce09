"""``automate-lite local``: the stand-ins of :mod:`automate_lite.testing` on 127.0.0.1, until Ctrl-C.

It starts :class:`~automate_lite.testing.LocalGlobus` (the Flows service wired to the
provider stand-ins, so a definition naming ``https://transfer.actions.globus.org/...``
or ``https://compute.actions.globus.org`` runs unchanged), an
:class:`~automate_lite.testing.ActionProviderStub` and an
:class:`~automate_lite.testing.AuthStub`. ``--collection ID=DIR`` serves a directory
as a Transfer collection; ``--function ID=MODULE:NAME`` registers a Python function as
a Compute function (``MODULE`` is imported with the current directory first on
``sys.path``, as ``python -m`` would).
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any, Callable

from ._context import Context, InputError

__all__ = ["serve", "parse_collection", "load_function"]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes Ctrl-C's way out, so the servers stop cleanly either way.
    raise KeyboardInterrupt


def _pair(text: str, option: str, right: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise InputError(f"{option} takes ID={right}, got {text!r}")
    return key.strip(), value.strip()


def parse_collection(text: str) -> tuple[str, str]:
    """``ID=DIR`` of ``--collection``: the collection id and its directory (made if missing)."""
    cid, directory = _pair(text, "--collection", "DIR")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise InputError(f"--collection {cid}: {directory!r} is a file; give a directory")
    return cid, os.path.abspath(directory)


def load_function(text: str) -> tuple[str, Callable[..., Any]]:
    """``ID=MODULE:NAME`` of ``--function``: the Compute function id and the callable."""
    fid, target = _pair(text, "--function", "MODULE:NAME")
    module_name, sep, name = target.partition(":")
    if not sep or not module_name or not name:
        raise InputError(f"--function {fid}: {target!r} is not MODULE:NAME (e.g. mymodule:double)")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise InputError(f"--function {fid}: cannot import {module_name!r} ({e}); run from its folder "
                         "or put it on PYTHONPATH") from None
    function: Any = module
    for part in name.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise InputError(f"--function {fid}: module {module_name!r} has no {name!r}")
    if not callable(function):
        raise InputError(f"--function {fid}: {target!r} is a {type(function).__name__}, not a function")
    return fid, function


def serve(ctx: Context) -> int:
    """Start LocalGlobus, ActionProviderStub and AuthStub (auth off), print their URLs, serve."""
    a = ctx.args
    collections = dict(parse_collection(c) for c in a.collections or ())
    functions = [load_function(f) for f in a.functions or ()]

    from ..testing import ActionProviderStub, AuthStub, LocalGlobus

    started: list[Any] = []
    try:
        local = LocalGlobus(collections=collections, host=a.host, port=a.flows_port).start()
        started.append(local)
        for fid, function in functions:
            local.providers.compute.register(function, fid)
        provider = ActionProviderStub(host=a.host, port=a.provider_port).start()
        started.append(provider)
        auth = AuthStub(host=a.host, port=a.auth_port).start()
        started.append(auth)
        urls = {"flows": local.flows_url, "providers": local.providers.url, "action_provider": provider.url,
                "auth": auth.url, "collections": collections, "functions": [fid for fid, _ in functions]}
        if ctx.out.json:
            ctx.out.document(urls)
        else:
            print(f"flows            {local.flows_url}")
            print(f"providers        {local.providers.url}  (Transfer, Compute, Search... at their public paths)")
            print(f"action provider  {provider.url}")
            print(f"auth             {auth.url}")
            for cid, directory in collections.items():
                print(f"collection       {cid} = {directory}")
            for fid, function in functions:
                print(f"function         {fid} = {getattr(function, '__module__', '?')}:"
                      f"{getattr(function, '__qualname__', '?')}")
            print(f"\nexport GLOBUS_SDK_SERVICE_URL_FLOWS={local.flows_url}")
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
