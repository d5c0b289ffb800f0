"""SQLAlchemy implementations of the metadata repository ports, one module per area.

Each repository runs statements on the connection of the unit of work that created it
(``adapters/unit_of_work.py``) and never commits.
"""
