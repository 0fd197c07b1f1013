"""ltrr.evaluation."""
