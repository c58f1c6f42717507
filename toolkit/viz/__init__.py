"""Pictures of an audit: static PNG plots for reports (``toolkit.viz.plots``) and notebook views.

Like the report writers, nothing here computes findings; it only draws what analyses produced.
"""
