"""This repository's launchers for the local services of :mod:`automate_lite.testing`.

The stand-ins themselves ship in the package (``automate_lite.testing``); this folder only
keeps ``python -m stubs SERVICE`` working from a checkout.
"""
