"""Renderers: turn an audit (toolkit.report.model.Report) into HTML, Markdown, JSON and CSV.

Renderers compute nothing; they only present what the analyses produced.
"""
