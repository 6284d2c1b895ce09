"""Errors of the login extras (all are :class:`automate_lite.AutomateError`).

None of them ever holds a token: messages name scopes, files and environments only.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..errors import AutomateError

__all__ = ["LoginRequired", "LoginFailed", "TokenFileError"]


class LoginRequired(AutomateError):
    """Tokens are needed for ``scopes`` but logging in is not allowed here.

    Raised in no-login mode (``login="never"`` or ``AUTOMATE_LITE_NO_LOGIN=1``), and when
    an interactive login cannot ask anyone (standard input closed). ``scopes`` lists
    what to obtain; ``authorization_parameters`` holds any session requirements (policies,
    identities, MFA) a service named.
    """

    def __init__(
        self,
        scopes: Iterable[str],
        reason: str = "logging in is turned off (login='never' or AUTOMATE_LITE_NO_LOGIN=1)",
        authorization_parameters: Mapping[str, Any] | None = None,
    ) -> None:
        self.scopes = list(dict.fromkeys(scopes))
        self.reason = reason
        self.authorization_parameters = dict(authorization_parameters or {})
        lines = "".join(f"\n  {s}" for s in self.scopes) or "\n  (no scope named)"
        session = {
            k: v for k, v in self.authorization_parameters.items()
            if k.startswith("session_required") and v
        }
        extra = f"\nand a Globus session meeting {session}" if session else ""
        super().__init__(
            f"a Globus login is needed for {'this scope' if len(self.scopes) == 1 else 'these scopes'}:"
            f"{lines}{extra}\nbut {reason}. Log in once where a person can answer "
            "(python -m automate_lite.extras login SCOPE ...), or pass the client an authorizer "
            "built from a token you already hold."
        )


class LoginFailed(AutomateError):
    """An interactive login was started but did not produce tokens (refused, cancelled,
    timed out, or the code exchange failed)."""


class TokenFileError(AutomateError):
    """The token file cannot be read, written or trusted; it was left untouched.

    ``path`` is the file (or its lock or folder, when that is what is wrong) and
    ``problem`` what is wrong with it. The message says how to recover: ``fix`` when the
    caller knows the remedy (a permission to narrow, an owner to change), else how to
    move a damaged file aside.
    """

    def __init__(self, path: str, problem: str, fix: str | None = None) -> None:
        self.path = path
        self.problem = problem
        if fix is None:
            fix = (
                f"To recover, move it aside (mv '{path}' '{path}.broken') and log in again, or point "
                "AUTOMATE_LITE_TOKEN_FILE (or token_file=) at another file."
            )
        self.fix = fix
        super().__init__(f"the automate-lite token file {path} {problem}. It was left untouched. {fix}")
