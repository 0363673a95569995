"""HTTP API, persistence (PostGIS) and command line of PSQ Secteurs."""
