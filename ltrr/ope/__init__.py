"""ltrr.ope."""
