"""ltrr.arms."""
