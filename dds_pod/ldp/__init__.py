"""Linked Data Platform semantics: pods, containers, resources, patches and representations."""
