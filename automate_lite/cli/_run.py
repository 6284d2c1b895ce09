"""Running one parsed command: resolve its handler, map every failure to one line and an exit status."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from typing import Callable

from ..errors import AutomateAPIError, AutomateError, TransportError, UsageError, WaitTimeout
from ._context import Context, InputError

__all__ = ["dispatch"]


def _hint_for(error: AutomateAPIError, ctx: Context) -> str:
    """What to do about a refused token: name the scopes and where a token goes."""
    if error.http_status not in (401, 403):
        return ""
    scopes = error.required_scopes or ctx.scopes_needed(error)
    if not scopes:
        return ""
    where = ctx.token_hint()
    return f" (this needs a token for {', '.join(scopes)}: {where})"


def dispatch(args: argparse.Namespace, say_error: Callable[[str], None]) -> int:
    """Run the handler ``args`` names; return the exit status."""
    from . import EXIT_API, EXIT_INTERRUPTED, EXIT_TIMEOUT, EXIT_USAGE

    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="automate-lite: %(message)s")
    module_name, _, function_name = str(args.handler).partition(":")
    handler = getattr(importlib.import_module(f"{__package__}.{module_name}"), function_name)
    ctx = Context(args)
    try:
        return int(handler(ctx))
    except KeyboardInterrupt:
        say_error("interrupted")
        return EXIT_INTERRUPTED
    except WaitTimeout as e:
        say_error(str(e))
        return EXIT_TIMEOUT
    except AutomateAPIError as e:
        say_error(f"{e}{_hint_for(e, ctx)}")
        return EXIT_API
    except TransportError as e:
        say_error(str(e))
        return EXIT_API
    except (UsageError, InputError) as e:
        say_error(str(e))
        return EXIT_USAGE
    except AutomateError as e:  # login extra: LoginRequired, LoginFailed, TokenFileError
        say_error(str(e))
        return EXIT_USAGE if type(e).__name__ == "LoginRequired" else EXIT_API
    except BrokenPipeError:
        # ``automate-lite run list | head``: the reader left; nothing more to say, and
        # Python's own flush at exit must not complain either.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except (OSError, json.JSONDecodeError) as e:
        say_error(str(e))
        return EXIT_USAGE

