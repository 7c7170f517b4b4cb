"""The staff dashboard: figures computed from the rows, charts drawn as inline SVG."""
