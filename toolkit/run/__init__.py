"""Orchestration: one audit, many audits, the backtest over history."""
