"""Connectors that bring platforms' own exports and APIs into DDS pods, and serve them back."""
