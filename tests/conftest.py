"""Shared fixtures. `tests/` is on sys.path so helper modules import directly."""
