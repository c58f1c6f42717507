"""Loaders: pure functions that read inputs into documented tables (see toolkit.vocab.schema).

They never execute analysed code, never write to their inputs, and raise
toolkit.errors.InputError (or report a Skip) for bad input.
"""
