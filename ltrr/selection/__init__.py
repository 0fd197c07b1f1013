"""ltrr.selection."""
