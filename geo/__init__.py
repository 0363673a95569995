"""Pure geospatial domain of PSQ Secteurs: GeoDataFrames in, GeoDataFrames out.

Nothing in this package knows about FastAPI, SQL or the web pages.
"""
