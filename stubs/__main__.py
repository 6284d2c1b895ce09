"""``python -m stubs SERVICE [options]``: the same as ``python -m automate_lite.testing``."""

from automate_lite.testing.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
