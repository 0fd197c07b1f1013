"""Ground truth for ltrr's off-policy estimators, from its own simulator (``ltrr run`` on a
benchmark file with an ``[ope]`` or ``[ope_ranking]`` table).

- :mod:`.groundtruth`: plan-choice policies: logs from a logging policy, estimates of fixed
  and learning targets, their true values from the world (``benchmarks/ope-*.toml``);
  :mod:`.groundtruth_tables`: its summaries and Markdown tables;
- :mod:`.ranking_truth`: rankers from logged pages (``benchmarks/ope-ranking.toml``);
  :mod:`.ranking_truth_tables`: its summaries and tables;
- :mod:`.truthfiles`: what the two drivers share (their table, the outputs they write).

These drive experiments (they prepare worlds and play cells), so they live in
``ltrr/experiments``; the estimators they check are :mod:`ltrr.ope`'s, which imports none
of them.
"""
