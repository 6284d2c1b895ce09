"""``python -m automate_lite``: the ``automate-lite`` command line (see :mod:`automate_lite.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
