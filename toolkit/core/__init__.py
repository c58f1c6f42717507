"""The data spine: Evidence (what was loaded) and Findings (every analysis, computed once)."""
