"""Vocabulary shared by every layer: components, table schemas, environments, test ids."""
