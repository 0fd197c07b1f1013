"""Off-policy evaluation of logged decisions (``ltrr ope``), checked against ground truth.

- :mod:`.schema`: the logged-data format and the table reader (Parquet, CSV, JSON Lines);
- :mod:`.columns`: which column plays which role (defaults, obp's names, the options);
- :mod:`.validation`: checks on logs, one exact message per problem, and `read_logs`;
- :mod:`.target`: fixed evaluation policies (built-in, trained on part of the logs, or a file);
- :mod:`.estimators`: obp's estimators, SLOPE, weight diagnostics;
  :mod:`.rewardmodel`: their cross-fitted reward model; :mod:`.bootstrap`: intervals that
  resample rows and re-run every estimator;
- :mod:`.replay`: learning policies evaluated by replay (rejection sampling on non-uniform logs);
- :mod:`.report`: the table and JSON record; :mod:`.cli`: the command;
- :mod:`.synthetic`: logs with an exact truth (tests, examples, benchmarks);
  :mod:`.coverage`: interval coverage against that truth;
- rankers from logged pages (``ltrr ope --pages``): :mod:`.pages` (the page-log format and
  its checks), :mod:`.page_policy` (the target ranker), :mod:`.slate` (obp's slate estimators
  and PBM-IPS, with intervals); :mod:`.synthetic_pages` (a tiny page world with an exact
  truth).

The ground truth of these estimators from ltrr's simulator (estimates and replays against
on-policy runs, for plan choice and for rankers) drives experiments, so it lives in
:mod:`ltrr.experiments.ope_truth`; nothing here imports it.

From Python, :func:`evaluate` is ``ltrr ope`` on a file or a DataFrame (a decision log, say)
and returns its JSON document as a dict; :func:`evaluate_pages` is ``ltrr ope --pages``.
"""

from __future__ import annotations


def evaluate(logs, policy: str = "uniform", *, estimators=None,
             reward_range: tuple[float, float] = (0.0, 1.0), reward_model: str = "logistic",
             folds: int = 3, context: str | list[str] | None = None,
             action_column: str | None = None, propensity_column: str | None = None,
             reward_column: str | None = None, train_fraction: float = 0.5,
             n_bootstrap: int = 1000, alpha: float = 0.05, switch_tau: float | None = None,
             dros_lambda: float | None = None, min_rows: int = 100, seed: int = 0) -> dict:
    """Estimate ``policy``'s value from logged decisions, as ``ltrr ope`` does (same checks,
    same estimators or replay, same document: ``estimates`` with intervals, ``columns``,
    ``notes``, ``settings``, ...).

    Args:
        logs: a logged-data file (Parquet, CSV, JSON Lines) or a DataFrame in that format.
        policy: ``uniform``, ``greedy-dm:MODEL[:EPSILON]``, ``ipw-learner:MODEL``,
            ``file:PATH`` or ``learn:NAME[:KEY=VALUE,...]`` (as ``--policy``).
        estimators: obp estimators by ltrr's names (a list or comma-separated; default all
            seven; none for ``learn:`` policies, which are replayed).
        context: context columns: a list, ``"a,b,c"``, ``"PREFIX*"`` or ``"none"`` (default:
            ``ctx_*``, else ``x0..xN``). ``*_column``: the columns of the other roles. The
            remaining arguments are ``ltrr ope``'s options.

    Raises:
        InputError: a bad log (named column and rows), policy or option.
    """
    import pandas as pd  # noqa: PLC0415 - heavy imports on first use

    from ltrr.errors import InputError  # noqa: PLC0415
    from ltrr.ope import estimators as est  # noqa: PLC0415
    from ltrr.ope import replay, report, target, validation  # noqa: PLC0415
    from ltrr.ope.columns import ColumnMap  # noqa: PLC0415

    if n_bootstrap < 1 or not 0 < alpha < 1:
        raise InputError("--n-bootstrap must be >= 1 and --alpha in (0, 1)")
    lo, hi = (float(v) for v in reward_range)
    if not lo < hi:
        raise InputError(f"--reward-range must have LO < HI, got {reward_range!r}")
    learner = replay.parse_spec(policy) if policy.startswith("learn:") else None
    if learner is not None and estimators is not None:
        raise InputError(f"--estimators: not used by --policy {policy} (a learning policy "
                         "is evaluated by replay)")
    joined = estimators if isinstance(estimators, str) or estimators is None else ",".join(estimators)
    names = est.parse_estimators(joined or ",".join(est.ESTIMATORS))
    columns = ColumnMap(action=action_column, propensity=propensity_column, reward=reward_column,
                        context=context if context is None or isinstance(context, str)
                        else ",".join(context))
    checks = {"columns": columns, "reward_range": (lo, hi), "min_rows": min_rows,
              "propensity_required": learner is None,
              "needs_exploration": learner is None and bool(set(names) & set(est.NEEDS_EXPLORATION))}
    if isinstance(logs, pd.DataFrame):
        source = "<DataFrame>"
        data = validation.to_logged_data(logs, source, **checks)
    else:
        source = str(logs)
        data = validation.read_logs(logs, **checks)
    common = {"reward_range": f"{lo:g},{hi:g}", "seed": seed, "confidence": 1 - alpha}
    if learner is not None:
        result = replay.evaluate(data, *learner, seed=seed, alpha=alpha)
        return report.replay_document(result, logs_path=source, spec=policy, logs=data,
                                      settings=common)
    chosen = target.build(policy, data, train_fraction=train_fraction, seed=seed)
    result = est.estimate(chosen, names, model=reward_model, folds=folds, n_bootstrap=n_bootstrap,
                          alpha=alpha, seed=seed, switch_tau=switch_tau, dros_lambda=dros_lambda)
    settings = {"estimators": ",".join(names), "reward_model": reward_model, "folds": folds,
                "train_fraction": train_fraction, "n_bootstrap": n_bootstrap,
                "switch_tau": switch_tau, "dros_lambda": dros_lambda, **common}
    return report.document(result, logs_path=source, policy=chosen, settings=settings)


def evaluate_pages(logs, policy: str = "log", *, estimators=None,
                   examination: list[float] | None = None,
                   reward_range: tuple[float, float] = (0.0, 1.0), page_length: int | None = None,
                   n_bootstrap: int = 1000, alpha: float = 0.05, seed: int = 0) -> dict:
    """Estimate a target ranker's value (expected reward per page) from logged pages, as
    ``ltrr ope --pages`` does (:mod:`ltrr.ope.pages` for the format, :mod:`ltrr.ope.slate`
    for the estimators, :mod:`ltrr.ope.page_policy` for ``policy``).

    Args:
        logs: a page-log file (Parquet, CSV, JSON Lines) or a DataFrame in that format.
        policy: ``log``, ``scores:PATH`` or ``pages:PATH``.
        estimators: ``sips``, ``iips``, ``rips``, ``pbm-ips`` (a list or comma-separated;
            default: those the log's columns allow).
        examination: PBM-IPS's examination probability per position (default: estimated
            from the logs by result randomisation).

    Raises:
        InputError: a bad log or target file (named column and rows) or option.
    """
    import numpy as np  # noqa: PLC0415 - heavy imports on first use
    import pandas as pd  # noqa: PLC0415

    from ltrr.errors import InputError  # noqa: PLC0415
    from ltrr.ope import page_policy, report, slate  # noqa: PLC0415
    from ltrr.ope.pages import LOGGING, to_page_logs  # noqa: PLC0415
    from ltrr.ope.schema import read_table  # noqa: PLC0415

    if n_bootstrap < 1 or not 0 < alpha < 1:
        raise InputError("--n-bootstrap must be >= 1 and --alpha in (0, 1)")
    frame = logs if isinstance(logs, pd.DataFrame) else read_table(logs)
    source = "<DataFrame>" if isinstance(logs, pd.DataFrame) else str(logs)
    if estimators is None:
        pbm = policy != "log" and (examination is not None
                                   or "pscore_item_position" in frame.columns)
        names = [n for n in slate.ESTIMATORS if (pbm if n == "pbm-ips"
                                                 else slate.OBP_ESTIMATORS[n][1] in frame.columns)]
        if not names:
            raise InputError(f"{source}: none of the columns {', '.join(LOGGING)} that the "
                             "slate estimators read")
    else:
        names = slate.parse_estimators(estimators if isinstance(estimators, str)
                                       else ",".join(estimators))
    data = to_page_logs(frame, source, needed=slate.needed_columns(names, policy == "log"),
                        reward_range=reward_range, page_length=page_length)
    if examination is not None and len(examination) < data.len_list:
        raise InputError(f"--examination: {len(examination)} values for pages of "
                         f"{data.len_list} positions (give one per position)")
    theta = None if examination is None else np.asarray(examination[:data.len_list], float)
    target = page_policy.build(policy, data)
    result = slate.estimate(data, target, names, examination=theta, n_bootstrap=n_bootstrap,
                            alpha=alpha, seed=seed)
    settings = {"estimators": ",".join(names), "reward_range": list(reward_range),
                "examination": None if theta is None else theta.tolist(),
                "n_bootstrap": n_bootstrap, "confidence": 1 - alpha, "seed": seed}
    return report.pages_document(result, logs_path=source, policy=policy, logs=data,
                                 settings=settings)
