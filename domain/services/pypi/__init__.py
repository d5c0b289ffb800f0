"""Every project is a Python package index (SPEC §3).

``upload`` records a distribution (the legacy upload API), ``index`` builds the values the
PEP 503/691 renderers show, ``manage`` yanks and deletes files and releases, and
``releases`` keeps a release's version row pointing at one of its live files.
"""
