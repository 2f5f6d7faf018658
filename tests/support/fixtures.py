"""Pytest fixtures shared by the whole suite (registered from tests/conftest.py)."""
