"""The Solid CRUD test suite run against a real node (see harness.py)."""
