"""reportdraft: LLM-assisted radiology report drafting with source-grounded verification."""

__version__ = "0.1.0"
