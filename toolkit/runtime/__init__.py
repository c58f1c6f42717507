"""Plumbing every layer may use: the cache, atomic writes, progress, parallel parsing."""
