"""Core: the engine and what it stands on, in layers of its own (pyproject.toml)."""
