"""Offline evaluation of *learning* policies by replay (``ltrr ope LOGS --policy learn:NAME``).

obp's estimators evaluate a fixed action distribution; a learning policy's distribution
depends on what it has learned, i.e. on its own past choices. The replay method (Li, Chu,
Langford, Wang, WSDM 2011) feeds the learner the logged rows in time order; on a row where
its choice equals the logged action, the row is *accepted*: the learner gets the logged
reward and updates; other rows are skipped. With a uniform-random logger over K actions
each row is accepted with probability 1/K whatever the learner picks, so the accepted rows
are distributed exactly as an on-policy run of the learner: the mean accepted reward is an
unbiased estimate of the learner's value **over its first N decisions**, N the number of
accepted rows (about T/K for T logged rows), not of its value after T decisions.

Non-uniform logs (propensities p_t) are replayed by rejection sampling (the importance
weighting of Dudik, Erhan, Langford, Li, "Sample-efficient nonstationary policy evaluation
for contextual bandits", UAI 2012, turned into acceptance probabilities so that the learner
trains on an unweighted stream): a matching row is accepted with
probability c / p_t, c the smallest logged propensity, which makes every row's acceptance
probability c whatever the learner chooses, so the same argument holds with N about c T.
This needs every action to have had a positive probability; the logs show only the
chosen ones, and c is the smallest of those. Uniform logs are the case c = 1/K, where every
match is accepted. A log without propensities is replayed only when its action counts are
consistent with a uniform logger (chi-square test); otherwise the command stops.

The interval is a t-interval over the accepted rewards: it covers the replay's sampling
error given the learner's path (clicks, which rows were accepted), which is the error
against the learner's value on the logged stream; see docs/ope.md for how it compares
with on-policy runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ltrr.errors import InputError
from ltrr.selection.base import Plan
from ltrr.selection.plans import PlanSpace

# Policies that learn from (context, plan, reward) alone: no per-arm click credit
# (semibandit) and no simulator truth (oracle); fixed policies go to the estimators.
LEARNERS = ("epsilon_greedy", "ucb1", "thompson", "exp3", "linucb", "lints", "lin_epsilon_greedy")
UNIFORMITY_P = 1e-3  # a log without propensities is refused below this chi-square p-value


@dataclass
class Replay:
    """The outcome of one replay, in the logs' row order."""

    learner: str
    params: dict
    value: float
    ci: tuple[float, float]
    accepted: np.ndarray  # (rows,) bool
    proposals: np.ndarray  # (rows,) the learner's choice at every row (index into actions)
    rate: float  # c: every row's acceptance probability
    method: str
    notes: list[str] = field(default_factory=list)

    @property
    def n_accepted(self) -> int:
        return int(self.accepted.sum())


def parse_spec(spec: str) -> tuple[str, dict]:
    """``learn:NAME[:KEY=VALUE,...]`` -> (name, params); numbers become int or float."""
    _, _, rest = spec.partition(":")
    name, _, text = rest.partition(":")
    if name not in LEARNERS:
        raise InputError(f"--policy {spec}: unknown learning policy {name!r}; use one of "
                         f"{', '.join(LEARNERS)}")
    params = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise InputError(f"--policy {spec}: hyper-parameters must be KEY=VALUE, got {item!r}")
        try:
            params[key.strip()] = int(value) if value.strip().lstrip("-").isdigit() else float(value)
        except ValueError:
            raise InputError(f"--policy {spec}: {key.strip()} must be a number, got {value!r}") from None
    return name, params


def plan_space(actions: list[str]) -> PlanSpace:
    """A plan space whose plan ``i`` is the logs' action ``i`` (learners need only the count)."""
    return PlanSpace(arms=(), budget=1, plans=[Plan(id=a, depths=()) for a in actions])


def build_learner(name: str, params: dict, logs, seed: int):
    from ltrr.selection.policies import build_policy  # noqa: PLC0415

    return build_policy(name, params, plan_space(logs.actions),
                        n_features=logs.context.shape[1], random_state=seed,
                        reward_range=logs.reward_range)


def check_replayable(logs) -> list[str]:
    """Stop on logs replay cannot use; return notes on what was assumed."""
    if not logs.available.all():
        raise InputError(f"{logs.source}: column 'action_set': replay needs every action available "
                         f"at every row (a learning policy chooses among all {logs.n_actions}); "
                         f"{int((~logs.available.all(axis=1)).sum())} rows offer fewer")
    if logs.propensity_logged:
        if (logs.propensity == 1).all():
            raise InputError(f"{logs.source}: column '{logs.columns['propensity']}': every "
                             "propensity is 1 (a deterministic logging policy); replay needs a "
                             "logging policy that tries every action")
        return []
    counts = np.bincount(logs.action, minlength=logs.n_actions)
    p_value = float(stats.chisquare(counts, np.full(logs.n_actions, logs.n_rows / logs.n_actions)).pvalue)
    if p_value < UNIFORMITY_P:
        raise InputError(f"{logs.source}: no propensity column ('propensity' or obp's 'pscore') "
                         f"and the logged actions are not uniform (chi-square test against "
                         f"uniform: p = {p_value:.2g}); replay on non-uniform logs needs the "
                         "logging propensities: add them as column 'propensity' or map one with "
                         "--propensity-column NAME")
    return [f"no propensity column: the logs are taken as uniform-random (action counts are "
            f"consistent with uniform, chi-square p = {p_value:.2g})"]


def replay(logs, learner, *, seed: int, alpha: float = 0.05, name: str = "",
           params: dict | None = None, to_log: np.ndarray | None = None) -> Replay:
    """Replay ``learner`` over ``logs`` in time order. ``to_log[p]`` is the logs' action index
    of the learner's plan ``p`` (default: the same indices); proposals are the learner's own
    plan indices. Fewer than two accepted rows give a NaN value (the CLI refuses them)."""
    notes = check_replayable(logs)
    to_log = np.arange(logs.n_actions) if to_log is None else np.asarray(to_log)
    rate = float(logs.propensity.min())
    uniform = np.allclose(logs.propensity, 1.0 / logs.n_actions, rtol=1e-3)  # written files round
    accept_draw = np.random.default_rng([seed, 0x2E9]).random(logs.n_rows)
    accepted = np.zeros(logs.n_rows, dtype=bool)
    proposals = np.zeros(logs.n_rows, dtype=np.int64)
    for i in logs.order:
        context = logs.context[i]
        plan, _ = learner.choose(context)
        proposals[i] = plan
        if to_log[plan] == logs.action[i] and accept_draw[i] * logs.propensity[i] < rate:
            accepted[i] = True
            learner.update(context, plan, float(logs.reward[i]), None)
    rewards = logs.reward[accepted]
    n = len(rewards)
    value, half = float("nan"), float("nan")
    if n >= 2:
        value = float(rewards.mean())
        half = float(stats.t.ppf(1 - alpha / 2, n - 1) * rewards.std(ddof=1) / np.sqrt(n))
    method = ("replay (uniform logs; Li et al. 2011)" if uniform else
              f"rejection-sampling replay (non-uniform logs; matches accepted with probability "
              f"{rate:.3g} / propensity)")
    return Replay(learner=name, params=dict(params or {}), value=value,
                  ci=(value - half, value + half), accepted=accepted, proposals=proposals,
                  rate=rate, method=method, notes=notes)


def evaluate(logs, name: str, params: dict, *, seed: int, alpha: float = 0.05) -> Replay:
    """Build learning policy ``name`` with ``params`` and replay it over ``logs``."""
    learner = build_learner(name, params, logs, seed)
    result = replay(logs, learner, seed=seed, alpha=alpha, name=name, params=learner.params)
    if result.n_accepted < 2:
        raise InputError(f"{logs.source}: replay of {name} accepted {result.n_accepted} of "
                         f"{logs.n_rows} rows (acceptance probability {result.rate:.3g} per row); "
                         "too few for an estimate")
    return result
