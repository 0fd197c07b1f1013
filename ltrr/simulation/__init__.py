"""ltrr.simulation."""
