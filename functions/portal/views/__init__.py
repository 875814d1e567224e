"""Routers of the portal function: the page, its documents, and what a visitor sends."""
