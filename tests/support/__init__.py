"""Helpers the test folders share, importable as ``support`` (``tests/`` is on the path)."""
