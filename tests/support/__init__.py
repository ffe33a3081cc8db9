"""Helpers the test folders share (importable as ``support``: pytest puts ``tests/`` on the path)."""
