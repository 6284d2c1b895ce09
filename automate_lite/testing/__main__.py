"""Run a stand-in in the foreground: ``python -m automate_lite.testing SERVICE [options]``.

It prints the service URL on one line to stdout, then serves until SIGINT or SIGTERM::

    python -m automate_lite.testing action-provider --port 8000 --token tok-alice=urn:globus:auth:identity:alice
    python -m automate_lite.testing flows --collection src=./data/in --collection dst=./data/out

``flows --with-providers`` (or any ``--collection``) maps the public ActionUrls to the
stand-in providers; their base URL goes to stderr as ``providers URL``.

A new service is one more subparser whose ``start`` default builds something with
``url``, ``serve_forever()`` and ``stop()``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import uuid
from types import FrameType
from typing import Callable, Protocol, Sequence

from .action_provider import ActionProviderStub
from .auth import AuthStub
from .flows import FlowLimits, FlowsStub
from .flows.service import _require_jsonschema


class _Service(Protocol):
    @property
    def url(self) -> str: ...

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


def _parse_tokens(specs: Sequence[str] | None) -> dict[str, str] | None:
    """``TOKEN=IDENTITY`` pairs; a bare ``TOKEN`` gets a stable identity derived from it."""
    if not specs:
        return None
    tokens = {}
    for spec in specs:
        token, sep, identity = spec.partition("=")
        tokens[token] = identity if sep else (
            f"urn:globus:auth:identity:{uuid.uuid5(uuid.NAMESPACE_URL, token)}")
    return tokens


def _action_provider(args: argparse.Namespace) -> _Service:
    return ActionProviderStub(tokens=_parse_tokens(args.token), prefix=args.prefix,
                              host=args.host, port=args.port)


def _collections(specs: Sequence[str] | None) -> dict[str, str]:
    found = {}
    for spec in specs or ():
        cid, sep, directory = spec.partition("=")
        if not sep or not cid or not directory:
            raise SystemExit(f"--collection takes ID=DIRECTORY, not {spec!r}")
        found[cid] = directory
    return found


class _WithProviders:
    """The Flows stand-in with its ActionUrls served by the stand-in providers."""

    def __init__(self, args: argparse.Namespace) -> None:
        from .providers.services import LocalGlobus

        self.local = LocalGlobus(collections=_collections(args.collection), tokens=_parse_tokens(args.token),
                                 flow_tokens=_parse_tokens(args.flow_token), action_token=args.action_token,
                                 host=args.host, port=args.port, limits=_limits(args))

    @property
    def url(self) -> str:
        return self.local.flows_url

    def serve_forever(self) -> None:
        self.local.providers.start()
        print(f"providers {self.local.providers.url}", file=sys.stderr, flush=True)
        self.local.flows.serve_forever()

    def stop(self) -> None:
        self.local.stop()


def _flows(args: argparse.Namespace) -> _Service:
    if args.with_providers or args.collection:
        return _WithProviders(args)
    return FlowsStub(tokens=_parse_tokens(args.token), flow_tokens=_parse_tokens(args.flow_token),
                     action_token=args.action_token, host=args.host, port=args.port, limits=_limits(args))


def _limits(args: argparse.Namespace) -> FlowLimits:
    """The documented limits; the free-tier ones only with ``--free-tier``."""
    return FlowLimits(free_tier=bool(args.free_tier))


def _providers(args: argparse.Namespace) -> _Service:
    from .providers import LocalProviders

    return LocalProviders(collections=_collections(args.collection), host=args.host, port=args.port)


def _auth(args: argparse.Namespace) -> _Service:
    return AuthStub(host=args.host, port=args.port)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # serve_forever only stops on an exception in this thread; reuse Ctrl-C's path
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv``, start the chosen stand-in and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m automate_lite.testing",
                                     description="Loopback stand-ins for Globus services.")
    services = parser.add_subparsers(dest="service", required=True, metavar="SERVICE")

    ap = services.add_parser("action-provider", help="a Globus Action Provider")
    ap.add_argument("--token", action="extend", nargs="+", metavar="TOKEN[=IDENTITY]",
                    help="accept this bearer token (repeatable); without any, no auth")
    ap.add_argument("--prefix", default="", help="mount below this path, e.g. /hello_world")
    ap.set_defaults(start=_action_provider)

    fl = services.add_parser("flows", help="the Globus Flows service")
    fl.add_argument("--token", action="extend", nargs="+", metavar="TOKEN[=IDENTITY]",
                    help="accept this service token (repeatable); with no tokens at all, no auth")
    fl.add_argument("--flow-token", action="extend", nargs="+", metavar="TOKEN[=IDENTITY]",
                    help="accept this token for every flow's own scope (repeatable)")
    fl.add_argument("--action-token", help="bearer token the flow's Action states present to action providers")
    fl.add_argument("--with-providers", action="store_true",
                    help="serve the public ActionUrls (Transfer, Compute, Search, ...) with local stand-ins")
    fl.add_argument("--collection", action="append", metavar="ID=DIRECTORY",
                    help="serve DIRECTORY as Transfer collection ID (implies --with-providers; repeatable)")
    fl.add_argument("--free-tier", action="store_true",
                    help="enforce the free-tier flow limits: one flow without a subscription per owner, "
                         "gone 30 days after its creation (FlowLimits(free_tier=True))")
    fl.set_defaults(start=_flows)

    pr = services.add_parser("providers", help="stand-ins for Transfer, Compute, Search, notification, ...")
    pr.add_argument("--collection", action="append", metavar="ID=DIRECTORY",
                    help="serve DIRECTORY as Transfer collection ID (repeatable)")
    pr.set_defaults(start=_providers)

    services.add_parser("auth", help="Globus Auth's OAuth2 endpoints (login, refresh, revoke)").set_defaults(start=_auth)

    for sub in services.choices.values():
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=0, help="0 (default): a free port")

    args = parser.parse_args(argv)
    start: Callable[[argparse.Namespace], _Service] = args.start
    from ..errors import UsageError

    service = start(args)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if isinstance(service, FlowsStub):
            _require_jsonschema()  # one clear line before the URL, not a 500 at the first run
        print(service.url, flush=True)
        service.serve_forever()
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
