"""ltrr.ranking."""
