"""Off-policy estimates of a ranker's value (expected clicks per page) from logged pages.

Estimators (``--estimators``):

- ``sips``, ``iips``, ``rips``: obp 0.4.1's ``SlateStandardIPS`` (weights the whole page),
  ``SlateIndependentIPS`` (each position by its item's marginal probability there) and
  ``SlateRewardInteractionIPS`` (each position by its prefix's). The point estimates are
  obp's ``estimate_policy_value``.
- ``pbm-ips``: inverse propensity scoring with the position-based click model's examination
  probabilities (Joachims, Swaminathan, Schnabel, WSDM 2017), written here because obp has
  none. Under PBM a click on item ``d`` shown at ``k`` has expectation ``theta_k r_d``; a target
  showing ``d`` at ``j`` earns ``theta_j r_d``. With the logger's probabilities of ``d`` at every
  position (``pscore_positions``) each click is weighted by ``theta_j / sum_k P(d at k)
  theta_k``, unbiased for a stochastic logger (the policy-aware form of Oosterhuis and de
  Rijke, 2020); without them by ``theta_j / theta_k``, the original estimator, unbiased when
  the logger always shows the items the target shows. ``theta`` is given (``--examination``)
  or estimated from the logs by result randomisation: the logger's random placement makes
  ``sum clicks at k / P(item at k)`` an unbiased estimate of ``theta_k`` times the query's
  total attractiveness, so their ratios across positions are ``theta``'s (only ratios
  matter to the weights). Under a cascade model examination depends on the clicks above, and
  PBM-IPS is misspecified (``results/ope-ranking`` measures what that costs).

Each estimate also counts the pages with a nonzero weight (``pages_weighted``: for SIPS the
logged pages equal to the target's, for RIPS those sharing at least its top item, for IIPS and
PBM-IPS those showing one of its items where it, or for PBM-IPS anywhere, shows it).

Intervals: percentile bootstrap over pages (every estimator is a mean over pages of a per-page
sum; an estimated ``theta`` is re-estimated on each resample). One set of resamples serves
every estimator, so their intervals are paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr.compat import obp
from ltrr.errors import InputError
from ltrr.ope.pages import EVALUATION, PageLogs

OBP_ESTIMATORS = {"sips": ("SlateStandardIPS", "pscore"),
                  "iips": ("SlateIndependentIPS", "pscore_item_position"),
                  "rips": ("SlateRewardInteractionIPS", "pscore_cascade")}
ESTIMATORS = (*OBP_ESTIMATORS, "pbm-ips")
LABELS = {"sips": "SIPS", "iips": "IIPS", "rips": "RIPS", "pbm-ips": "PBM-IPS"}
BOOTSTRAP_CHUNK = 64  # resamples evaluated together (memory: rows x chunk floats)


def parse_estimators(text: str) -> list[str]:
    """``"sips,pbm-ips"`` -> names in ltrr's order; InputError on an unknown one."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown or not names:
        raise InputError(f"--estimators: unknown page estimator '{(unknown or [''])[0]}' "
                         f"(choose from {', '.join(ESTIMATORS)})")
    return [n for n in ESTIMATORS if n in names]


def needed_columns(names: list[str], from_log: bool) -> tuple[str, ...]:
    """The logging (and, for ``--policy log``, evaluation) columns ``names`` read."""
    out = [OBP_ESTIMATORS[n][1] for n in names if n in OBP_ESTIMATORS]
    if from_log:
        out += [f"evaluation_policy_{OBP_ESTIMATORS[n][1]}" for n in names if n in OBP_ESTIMATORS]
    return tuple(out)


@dataclass
class PageTarget:
    """The target ranker on the logged rows: obp's three evaluation probabilities (by logging
    column name) and, for PBM-IPS, each logged item's 0-based position on the target's page
    (-1: not on it; None when the target's pages are not known, as with ``--policy log``)."""

    spec: str
    pscores: dict
    rank: np.ndarray | None = None


def target_from_log(logs: PageLogs) -> PageTarget:
    """The target the log's ``evaluation_policy_*`` columns describe."""
    return PageTarget("log", {name.removeprefix("evaluation_policy_"): logs.evaluation[name]
                              for name in EVALUATION if name in logs.evaluation})


def target_from_pages(logs: PageLogs, pages: list[np.ndarray], spec: str) -> PageTarget:
    """A deterministic target given its page (item ids, best first) for every logged page."""
    L = logs.len_list
    _, codes = np.unique(np.concatenate([logs.item, *[np.asarray(p, str) for p in pages]]),
                         return_inverse=True)
    target = np.full((logs.n_pages, L), -1, dtype=np.int64)  # item codes, -1: empty
    start = logs.n_rows
    for s, page in enumerate(pages):
        shown = min(L, len(page))
        target[s, :shown] = codes[start:start + shown]
        start += len(page)
    logged = np.full((logs.n_pages, L), -2, dtype=np.int64)
    logged[logs.slate, logs.position] = codes[:logs.n_rows]
    same = target == logged  # (pages, L): the target shows the logged item there
    prefix = np.cumprod(same, axis=1).astype(bool)
    full = prefix[np.arange(logs.n_pages), logs_page_end(logs)]
    hit = target[logs.slate] == codes[:logs.n_rows, None]  # (n, L)
    rank = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    pscores = {"pscore": full[logs.slate].astype(float),
               "pscore_cascade": prefix[logs.slate, logs.position].astype(float),
               "pscore_item_position": same[logs.slate, logs.position].astype(float)}
    return PageTarget(spec, pscores, rank)


def logs_page_end(logs: PageLogs) -> np.ndarray:
    """Per page, its last logged position."""
    end = np.zeros(logs.n_pages, dtype=np.int64)
    np.maximum.at(end, logs.slate, logs.position)
    return end


def estimate_examination(logs: PageLogs, counts: np.ndarray | None = None) -> np.ndarray:
    """``theta`` relative to position 0, from result randomisation (module docstring);
    ``counts``: how often each page is drawn in each of B bootstrap resamples (B, pages),
    giving (B, len_list); without, the log's own (len_list,)."""
    if "pscore_item_position" not in logs.pscores:
        raise InputError(f"{logs.source}: missing column 'pscore_item_position' (estimating the "
                         "examination probabilities from the logs needs it; or give them with "
                         "--examination)")
    per_page = np.zeros((logs.n_pages, logs.len_list))
    np.add.at(per_page, (logs.slate, logs.position),
              logs.reward / logs.pscores["pscore_item_position"])
    if counts is None:
        totals = per_page.sum(axis=0)
        if not totals[0] > 0:
            raise InputError(f"{logs.source}: column 'reward': no click at position 0, so the "
                             "examination probabilities cannot be estimated; give them with "
                             "--examination")
        return totals / totals[0]
    totals = np.atleast_2d(counts) @ per_page
    with np.errstate(divide="ignore", invalid="ignore"):  # a resample without such a click:
        return totals / totals[:, :1]  # NaN, left out of the interval's percentiles


def _pbm_terms(logs: PageLogs, target: PageTarget, theta: np.ndarray) -> np.ndarray:
    """Per-row PBM-IPS terms for one ``theta`` (len_list,) or many (B, len_list): (n,[B])."""
    theta = np.atleast_2d(theta)  # (B, L)
    at_target = np.where(target.rank[:, None] >= 0,
                         theta[:, np.maximum(target.rank, 0)].T, 0.0)  # (n, B)
    if logs.positions is not None:
        examined = logs.positions @ theta.T  # (n, B): E_log[theta at d's position]
    else:
        examined = theta[:, logs.position].T
    return logs.reward[:, None] * at_target / examined


def _obp_terms(logs: PageLogs, target: PageTarget, name: str, checked: bool = True
               ) -> tuple[float, np.ndarray]:
    """obp's point estimate and its per-row terms (``_estimate_round_rewards``).
    ``checked=False`` skips ``estimate_policy_value``'s input checks (a pandas group-by per
    page, seconds per 10,000 pages) for logs ltrr made itself: the estimate is then the
    same sum of those terms over the pages, without the checks."""
    cls, column = OBP_ESTIMATORS[name]
    if column not in target.pscores:
        raise InputError(f"{logs.source}: missing column 'evaluation_policy_{column}' "
                         f"(estimator {name} with --policy log)")
    estimator = getattr(obp("ope").ope, cls)(len_list=logs.len_list)
    behaviour, evaluation = logs.pscores[column], target.pscores[column]
    terms = estimator._estimate_round_rewards(reward=logs.reward, position=logs.position,
                                              behavior_policy_pscore=behaviour,
                                              evaluation_policy_pscore=evaluation)
    if not checked:
        return float(terms.sum() / logs.n_pages), terms
    value = estimator.estimate_policy_value(
        slate_id=logs.slate, reward=logs.reward, position=logs.position,
        **{column: behaviour, f"evaluation_policy_{column}": evaluation})
    return float(value), terms


def estimate(logs: PageLogs, target: PageTarget, names: list[str], *,
             examination: np.ndarray | None = None, n_bootstrap: int = 1000,
             alpha: float = 0.05, seed: int = 0, checked: bool = True) -> dict:
    """Every estimator's value and percentile-bootstrap interval over pages, with the
    examination probabilities used (given or estimated: ``examination`` None);
    ``checked``: run obp's input checks (:func:`_obp_terms`)."""
    rng = np.random.default_rng([seed, 0x51A7E])
    counts = rng.multinomial(logs.n_pages, np.full(logs.n_pages, 1 / logs.n_pages),
                             size=n_bootstrap).astype(float)  # (B, pages): draws of each page
    results, notes = {}, []
    for name in names:
        if name in OBP_ESTIMATORS:
            value, terms = _obp_terms(logs, target, name, checked)
            weighted = target.pscores[OBP_ESTIMATORS[name][1]] > 0
            per_page = np.bincount(logs.slate, terms, minlength=logs.n_pages)
            resampled = counts @ per_page / logs.n_pages
        else:
            if target.rank is None:
                raise InputError(f"--estimators pbm-ips: needs the target's pages (a scores or "
                                 f"pages file), which --policy {target.spec} does not give")
            theta = examination if examination is not None else estimate_examination(logs)
            weighted = target.rank >= 0
            value = float(_pbm_terms(logs, target, theta).sum() / logs.n_pages)
            resampled = np.empty(n_bootstrap)
            for start in range(0, n_bootstrap, BOOTSTRAP_CHUNK):
                chunk = counts[start:start + BOOTSTRAP_CHUNK]
                thetas = (np.tile(examination, (len(chunk), 1)) if examination is not None
                          else estimate_examination(logs, chunk))
                terms = _pbm_terms(logs, target, thetas)  # (n, chunk)
                page_terms = np.stack([np.bincount(logs.slate, terms[:, b], logs.n_pages)
                                       for b in range(len(chunk))], axis=1)
                resampled[start:start + len(chunk)] = (chunk * page_terms.T).sum(1) / logs.n_pages
            notes.append("PBM-IPS examination " + ("given" if examination is not None else
                         "estimated from the logs") + ": " +
                         ", ".join(f"{v:.4g}" for v in np.asarray(theta)))
        lo, hi = np.nanpercentile(resampled, [100 * alpha / 2, 100 * (1 - alpha / 2)])
        results[name] = {"value": value, "ci_lower": float(lo), "ci_upper": float(hi),
                         "pages_weighted": int(np.unique(logs.slate[weighted]).size)}
    return {"estimates": results, "notes": notes,
            "logged_value": float(logs.reward.sum() / logs.n_pages)}
