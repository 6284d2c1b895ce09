"""The ``automate-lite`` command (also ``python -m automate_lite``).

Standard-library ``argparse`` only. This module builds the parser and nothing else at
import time: each command's code (and with it urllib3, the local services or the
login extra) is imported only when that command runs, so ``automate-lite --help``
starts as fast as Python does.

Exit status: 0 success; 1 the run or action ended FAILED or ENDED (or stopped
INACTIVE); 2 bad arguments or input; 3 the service or the network failed; 4 waiting
timed out; 130 interrupted. Every error is one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Sequence

from ._parser import CommandLineError, build_parser

__all__ = ["main", "EXIT_OK", "EXIT_FAILED_RUN", "EXIT_USAGE", "EXIT_API", "EXIT_TIMEOUT"]

EXIT_OK = 0
EXIT_FAILED_RUN = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130


def _one_line(text: str) -> str:
    # Some messages (a flow's validation problems) span lines; a script reading
    # stderr expects one line per error.
    return "; ".join(part.strip() for part in text.splitlines() if part.strip()) or "(no message)"


def _say_error(message: str) -> None:
    print(f"automate-lite: error: {_one_line(message)}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Each command makes the HTTP calls its help text names (see ``automate-lite CMD --help``).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except CommandLineError as e:
        _say_error(f"{e} (see: {e.prog} --help)")
        return EXIT_USAGE
    except SystemExit as e:  # --help / --version
        return int(e.code) if isinstance(e.code, int) else EXIT_OK
    from ._run import dispatch

    return dispatch(args, _say_error)
