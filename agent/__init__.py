"""autopatch agent: codemods, drafting, sandboxed validation, repair, CommitBuilder, CLI."""

__version__ = "0.1.0"

__all__ = ["__version__"]
