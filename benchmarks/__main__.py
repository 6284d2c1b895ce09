"""``python -m benchmarks [--quick] [--only M,...] ...``: see ``--help``."""

import sys

from .run import main

sys.exit(main())
