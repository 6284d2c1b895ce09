"""Side-by-side benchmarks of automate-lite and its peers: ``python -m benchmarks``.

Not part of the test suite. See ``benchmarks/README.md`` for what is measured and how.
"""
