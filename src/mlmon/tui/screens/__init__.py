"""Screens: the monitor itself and the key bindings help."""
