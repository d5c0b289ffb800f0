"""SQLAlchemy implementations of the metadata repository ports, one module per area."""
