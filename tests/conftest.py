"""Root conftest: registers the harness plugins that provide real parts.

Each harness module owns one real dependency (PostgreSQL, S3, a live Orchard server) and
reports in the pytest header which one ran.
"""

pytest_plugins = [
    "tests.harness.postgres",
    "tests.harness.s3",
    "tests.harness.live_server",
]
