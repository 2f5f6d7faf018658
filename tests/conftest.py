"""Test-suite wide fixtures live in tests/support; this file only registers them."""
