"""Orchard's benchmarks against its peers (pypiserver, devpi-server) and the machine's floor.

``make bench`` (``python -m benchmarks.run``) installs the peers into their own virtual
environments under ``benchmarks/.work/``, starts every server on a free loopback port,
runs the same scenarios against each in alternation (A B A B ...) so that a noisy
neighbour slows every contender alike, and writes ``benchmarks/RESULTS.md`` and
``benchmarks/results.json``. Nothing here runs in the test suite except the table
rendering (``tests/unit/test_benchmarks_smoke.py``).
"""
