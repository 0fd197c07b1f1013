"""ltrr: benchmarks and off-policy evaluation for learning to rank and retrieve.

A policy picks, per query and context, which retrieval strategies (arms) to draw
candidates from and how many; the union is ranked; simulated users click; the clicks
teach the policy. ltrr measures that loop and evaluates logged decisions off-policy.

From Python (``docs/api.md``)::

    import ltrr
    results = ltrr.load_benchmark("benchmarks/music.toml").run(seeds=[0], stream_length=2000)
    results.records

and as PyTerrier transformers (``docs/pipelines.md``)::

    pipeline = ltrr.Selector(arms, policy="linucb", budget=50) >> ltrr.Fusion(num_results=10)
"""

__version__ = "0.1.0"


def _numba_cache() -> None:
    """Keep numba's compiled code under ``LTRR_HOME/numba/<hash of ltrr's sources>``.

    numba caches each compiled function by its own file, and does not notice when a function
    it calls, or a constant it reads, in another file changes: a cache shared across edits
    of the source could run stale code. One folder per source tree (every ``.py`` file of
    the package, by content) is never stale; it is also writable where the installed package
    is not. Set before numba reads its configuration (a ``NUMBA_CACHE_DIR`` of the user's is
    kept as the parent folder).
    """
    import hashlib
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parent
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    home = Path(os.environ.get("LTRR_HOME", Path.home() / ".cache" / "ltrr")).expanduser()
    parent = Path(os.environ.get("NUMBA_CACHE_DIR") or home / "numba")
    if parent.name.startswith("ltrr-"):  # set by ltrr in the process that started this one
        parent = parent.parent
    folder = str(parent / f"ltrr-{digest.hexdigest()[:16]}")
    os.environ["NUMBA_CACHE_DIR"] = folder
    import sys

    if "numba" in sys.modules:  # imported before ltrr: point its configuration there too
        sys.modules["numba"].config.CACHE_DIR = folder


_numba_cache()

_LAZY = {"load_benchmark": "ltrr.experiments.api", "Benchmark": "ltrr.experiments.api",
         "Results": "ltrr.experiments.api", "Selector": "ltrr.selection.selector",
         "Fusion": "ltrr.ranking.fusion", "ArmsUnion": "ltrr.ranking.pipeline",
         "RankFeatures": "ltrr.ranking.pipeline", "LearnedRanker": "ltrr.ranking.pipeline",
         "SimulatedUsers": "ltrr.simulation.users"}
__all__ = ["ArmsUnion", "Benchmark", "Fusion", "LearnedRanker", "RankFeatures", "Results",
           "Selector", "SimulatedUsers", "__version__", "load_benchmark"]


def __getattr__(name: str):
    """``ltrr.load_benchmark``, ``ltrr.Selector`` and friends, imported on first use (``import ltrr`` stays light
    for the command line)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ltrr' has no attribute {name!r}")
