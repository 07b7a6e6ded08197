"""Recipes of our own models (not part of the installed package): see models/README.md."""
