"""The federation: one merged, provenance-aware graph over many pods, and what is served from it."""
