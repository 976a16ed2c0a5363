"""SSCP assurance reporting: clean, validate and analyse multi-agency data, render the statement.

Importing the package changes nothing in the import system: the chain's processes install their
leaner imports themselves (sscp_lib/chain/lean_imports.py).
"""

__version__ = "0.1.0"
