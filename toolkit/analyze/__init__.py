"""Analyses: one module per detection method and root-cause signal.

Each is a plain function over loaded tables (toolkit.core.evidence.Evidence) returning
documented DataFrames/graphs plus a small summary dict; none reads files.
"""
