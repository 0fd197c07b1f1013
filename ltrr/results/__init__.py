"""ltrr.results."""
