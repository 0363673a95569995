"""Web pages of PSQ Secteurs: Jinja2 templates, vendored Leaflet and small ES modules."""
