"""The use cases. Each takes ports and primitives and returns plain values."""
