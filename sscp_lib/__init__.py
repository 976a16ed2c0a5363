"""SSCP assurance reporting: clean, validate and analyse multi-agency data, render the statement."""

__version__ = "0.1.0"
