"""Builders for raw-input fixtures and the bad-input corpus (files are made in tmp folders)."""
