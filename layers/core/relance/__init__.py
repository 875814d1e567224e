"""Relance: accounts-receivable collections on AWS serverless (the shared layer)."""

__version__ = "0.1.0"
