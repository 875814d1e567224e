"""The web app's screens: one Powertools ``Router`` per screen (module names unique across functions)."""
