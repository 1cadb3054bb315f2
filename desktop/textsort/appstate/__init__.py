"""App state: what the app and the commands hold while they work; no Qt."""
