"""ltrr.datasets."""
