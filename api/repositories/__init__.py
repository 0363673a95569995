"""Data access, one module per aggregate; functions take keyword-only arguments."""
