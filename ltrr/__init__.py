"""ltrr: benchmarks and off-policy evaluation for learning to rank and retrieve.

A policy picks, per query and context, which retrieval strategies (arms) to draw
candidates from and how many; the union is ranked; simulated users click; the clicks
teach the policy. ltrr measures that loop and evaluates logged decisions off-policy.
"""

__version__ = "0.1.0"
