"""Off-policy evaluation of logged decisions (``ltrr ope``), checked against ground truth.

- :mod:`.schema`: the logged-data format and the reader (Parquet, CSV, JSON Lines);
- :mod:`.validation`: checks on logs, one exact message per problem;
- :mod:`.target`: evaluation policies (built-in, trained on part of the logs, or a file);
- :mod:`.estimators`: obp's estimators, reward model, cross-fitting, bootstrap, SLOPE;
- :mod:`.report`: the table and JSON record; :mod:`.cli`: the command;
- :mod:`.synthetic`: logs with an exact truth (tests, examples, speed benchmark);
- :mod:`.groundtruth`: off-policy estimates vs on-policy runs in ltrr's simulator.

From Python, :func:`evaluate` is ``ltrr ope`` on a file or a DataFrame (a decision log from
:meth:`ltrr.experiments.api.Results.decisions`, say) and returns its JSON document as a dict.
"""

from __future__ import annotations

DEFAULT_ESTIMATORS = ("dm", "ipw", "snipw", "dr", "sndr", "switch-dr", "dr-os")


def evaluate(logs, policy: str = "uniform", *, estimators=DEFAULT_ESTIMATORS,
             reward_range: tuple[float, float] = (0.0, 1.0), reward_model: str = "logistic",
             folds: int = 3, context: list[str] | None = None, train_fraction: float = 0.5,
             n_bootstrap: int = 1000, alpha: float = 0.05, switch_tau: float | None = None,
             dros_lambda: float | None = None, min_rows: int = 100, seed: int = 0) -> dict:
    """Estimate ``policy``'s value from logged decisions, as ``ltrr ope`` does (same checks,
    same obp estimators, same document: ``estimates`` of each estimator with its interval,
    ``diagnostics``, ``settings``...).

    Args:
        logs: a logged-data file (Parquet, CSV, JSON Lines) or a DataFrame in that format
            (``docs/ope.md``; ltrr's decision logs are).
        policy: ``uniform``, ``greedy-dm:MODEL[:EPSILON]``, ``ipw-learner:MODEL`` or
            ``file:PATH`` (as ``--policy``).
        estimators: obp estimators by ltrr's names (``dm``, ``ipw``, ``snipw``, ``dr``,
            ``sndr``, ``switch-dr``, ``dr-os``); the other arguments are ``ltrr ope``'s options.

    Raises:
        InputError: a bad log (named column and rows), policy or option.
    """
    import pandas as pd

    from ltrr.errors import InputError
    from ltrr.ope import estimators as est
    from ltrr.ope import report, schema, target, validation

    names = est.parse_estimators(estimators if isinstance(estimators, str)
                                 else ",".join(estimators))
    if n_bootstrap < 1 or not 0 < alpha < 1:
        raise InputError("--n-bootstrap must be >= 1 and --alpha in (0, 1)")
    lo, hi = (float(v) for v in reward_range)
    if not lo < hi:
        raise InputError(f"--reward-range must have LO < HI, got {reward_range!r}")
    checks = {"context": context, "reward_range": (lo, hi), "min_rows": min_rows,
              "needs_exploration": bool(set(names) & set(est.NEEDS_EXPLORATION))}
    if isinstance(logs, pd.DataFrame):
        source = "<DataFrame>"
        data = validation.to_logged_data(logs, source, **checks)
    else:
        source = str(logs)
        data = schema.read_logs(logs, **checks)
    chosen = target.build(policy, data, train_fraction=train_fraction, seed=seed)
    result = est.estimate(chosen, names, model=reward_model, folds=folds,
                          n_bootstrap=n_bootstrap, alpha=alpha, seed=seed,
                          switch_tau=switch_tau, dros_lambda=dros_lambda)
    settings = {"estimators": ",".join(names), "reward_model": reward_model, "folds": folds,
                "context": None if context is None else ",".join(context),
                "reward_range": f"{lo:g},{hi:g}", "train_fraction": train_fraction,
                "n_bootstrap": n_bootstrap, "switch_tau": switch_tau,
                "dros_lambda": dros_lambda, "seed": seed, "confidence": 1 - alpha}
    return report.document(result, logs_path=source, policy=chosen, settings=settings)
