"""seamscope: find where integration testing is inadequate — components that pass alone but fail together."""
__version__ = "0.1.0"
