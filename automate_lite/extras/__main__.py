"""``python -m automate_lite.extras {login,logout,list}``: manage the stored Globus tokens.

    python -m automate_lite.extras login SCOPE [SCOPE ...]   # one login for them all
    python -m automate_lite.extras list                      # scopes held (never tokens)
    python -m automate_lite.extras logout [SCOPE ...]        # revoke and forget

Useful to log in once on a machine where a person can answer, before running a program
in no-login mode (``AUTOMATE_LITE_NO_LOGIN=1``) with the same token file.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence

from .errors import LoginFailed, LoginRequired, TokenFileError
from .login import DEFAULT_CLIENT_ID, LoginManager, LoginMode


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m automate_lite.extras", description="Manage stored Globus tokens.")
    parser.add_argument("--token-file", help="the token file (default: $AUTOMATE_LITE_TOKEN_FILE or ~/.config/automate-lite/tokens.json)")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID, help="the native app client to log in with")
    parser.add_argument("--auth-url", help="Globus Auth's base URL (default: as globus-sdk decides)")
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="log in once for every SCOPE")
    login.add_argument("scopes", nargs="+", metavar="SCOPE")
    how = login.add_mutually_exclusive_group()
    how.add_argument("--paste", dest="mode", action="store_const", const="paste", help="print the URL, read the code from stdin")
    how.add_argument("--browser", dest="mode", action="store_const", const="browser", help="open a browser; redirect to 127.0.0.1")
    login.add_argument("--force", action="store_true", help="log in even if tokens are stored")
    commands.add_parser("list", help="list the stored scopes and when their tokens expire")
    logout = commands.add_parser("logout", help="revoke and forget the stored tokens (of SCOPEs, or all)")
    logout.add_argument("scopes", nargs="*", metavar="SCOPE")
    args = parser.parse_args(argv)

    mode: LoginMode = getattr(args, "mode", None) or "auto"
    manager = LoginManager(args.client_id, token_file=args.token_file, auth_base_url=args.auth_url,
                           login=mode if args.command == "login" else "never")
    try:
        if args.command == "login":
            if args.force:
                manager.login(args.scopes)
            else:
                manager.ensure(args.scopes)
            print(f"tokens stored in {manager.tokens.path}")
        elif args.command == "list":
            now = time.time()
            for scope, tok in sorted(manager.tokens.entries(manager.environment).items()):
                if tok.expires_at_seconds is None:
                    when = "expiry unknown"
                else:
                    left = tok.expires_at_seconds - now
                    when = f"expires in {int(left // 60)} min" if left > 0 else "expired"
                refresh = "refreshable" if tok.refresh_token else "not refreshable"
                print(f"{scope}\t{when}, {refresh}")
        else:
            for scope in manager.logout(args.scopes or None):
                print(f"logged out of {scope}")
    except (LoginRequired, LoginFailed, TokenFileError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
