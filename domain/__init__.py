"""Orchard's functional core: pure Python, standard library only.

Nothing in this package may import Flask, SQLAlchemy, boto3, minio, marshmallow or any
adapter; ``tests/unit/test_architecture.py`` enforces it.
"""
