"""Data access, one module per aggregate: queries that return rows, DataFrames,
GeoDataFrames or Public schemas, and the writes of checked values. The caller owns the
transaction. What they share is in :mod:`api.repositories.base`; they never import one
another (docs/ARCHITECTURE.md)."""
