"""ltrr: benchmarks and off-policy evaluation for learning to rank and retrieve.

A policy picks, per query and context, which retrieval strategies (arms) to draw
candidates from and how many; the union is ranked; simulated users click; the clicks
teach the policy. ltrr measures that loop and evaluates logged decisions off-policy.

From Python (``docs/api.md``)::

    import ltrr
    results = ltrr.load_benchmark("benchmarks/music.toml").run(seeds=[0], stream_length=2000)
    results.records
"""

__version__ = "0.1.0"

_LAZY = {"load_benchmark": "ltrr.experiments.benchmark", "Benchmark": "ltrr.experiments.benchmark",
         "Results": "ltrr.experiments.api"}
__all__ = ["Benchmark", "Results", "__version__", "load_benchmark"]


def __getattr__(name: str):
    """``ltrr.load_benchmark`` and friends, imported on first use (``import ltrr`` stays light
    for the command line)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ltrr' has no attribute {name!r}")
