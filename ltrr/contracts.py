"""What a component of each pluggable kind must provide, and what it may declare: the
contracts a plugin author can rely on, read in one place.

Each kind is a runtime-checkable :class:`typing.Protocol` of its required methods (as
PyTerrier declares a transformer's abilities, e.g. ``SupportsFuseRankCutoff``):

=================  ===========================  ===============================================
kind               protocol                     required
=================  ===========================  ===============================================
``policy``         :class:`PolicyContract`      ``choose(context)``, ``update(context, plan,
                                                reward, arm_rewards)``
``arm``            :class:`ArmContract`         ``transform(queries)`` (a PyTerrier transformer)
``online arm``     :class:`OnlineArmContract`   ``update(query, clicked_docnos)``, ``reset()``
``ranker``         :class:`RankerContract`      ``fit(X, y, group, **kw)``, ``score(X)``
``click model``    :class:`ClickModelContract`  ``expected_clicks(grades)``,
                                                ``expected_total(grades)``,
                                                ``sample(grades, rng)``
=================  ===========================  ===============================================

Optional abilities are :data:`ABILITIES`: a declared flag (``uses_context``, default True), an
optional method (``probabilities``, ``fuse_rank_cutoff``) or an optional attribute
(``cache_key``), each with its default and what it means. ltrr reads them only through
:func:`ability`, so a default is written once, here; ``docs/plugins.md`` names every member
(``tests/test_check.py`` checks it against this module). ``ltrr check`` (:mod:`ltrr.check`)
runs a component through its kind's contract.

A low module: it imports no room of ltrr.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ltrr.errors import InputError


@runtime_checkable
class PolicyContract(Protocol):
    """A selection policy: one plan (and its propensity) per query, then the reward."""

    def choose(self, context: Any) -> tuple[int, float]:
        """``(plan_index, propensity)``: a plan ``0..len(plans)-1`` and the exact probability
        of choosing it, in (0, 1]."""

    def update(self, context: Any, plan: int, reward: float,
               arm_rewards: dict[str, float] | None) -> None:
        """Learn from ``reward`` (the page's clicks minus the plan's cost)."""


@runtime_checkable
class ArmContract(Protocol):
    """A retrieval arm: a PyTerrier transformer, queries (``qid, query``) -> ranking
    (``qid, docno, score[, rank]``)."""

    def transform(self, queries: Any) -> Any:
        """The ranking of every query asked, and of no other."""


@runtime_checkable
class OnlineArmContract(Protocol):
    """An arm that learns from clicks (as the memory arm does), queried at every step; it
    also ranks through ``ranked`` or ``search`` (:data:`ABILITIES`)."""

    def update(self, query: str, clicked_docnos: list[str]) -> None:
        """Learn the documents clicked for ``query``."""

    def reset(self) -> None:
        """Forget every update: back to the arm as built (every run starts from it)."""


@runtime_checkable
class RankerContract(Protocol):
    """A learned ranker of the ranking stage, built as ``Ranker(params, feature_names)``."""

    def fit(self, X: Any, y: Any, group: Any, **kwargs: Any) -> Any:
        """Train on rows ``X`` with labels ``y`` in consecutive query groups of sizes
        ``group`` (keywords: ``eval_set``, ``eval_group``, ``position``, ``weight``)."""

    def score(self, X: Any) -> Any:
        """One finite score per row, shape ``(n,)``; higher is better."""


@runtime_checkable
class ClickModelContract(Protocol):
    """Simulated users over pages of grades 0..4 (-1: an empty slot, never clicked)."""

    def expected_clicks(self, grades: Any) -> Any:
        """``(..., page)`` -> the probability of a click at every position, same shape."""

    def expected_total(self, grades: Any) -> Any:
        """``(..., page)`` -> ``(...)``, the sum of :meth:`expected_clicks`."""

    def sample(self, grades: Any, rng: Any) -> Any:
        """One page ``(page,)`` -> 0/1 clicks, every draw from ``rng``."""


@runtime_checkable
class SupportsProbabilities(Protocol):
    """A policy that can say the distribution ``choose`` draws from."""

    def probabilities(self, context: Any) -> Any:
        """Every plan's probability (length ``len(plans)``, summing to 1), drawing nothing."""


@runtime_checkable
class SupportsFuseRankCutoff(Protocol):
    """An arm that can be asked for its top ``k`` (PyTerrier's ``arm % k`` pushed inside)."""

    def fuse_rank_cutoff(self, k: int) -> Any:
        """This arm returning at most ``k`` results per query (or None: ltrr cuts)."""


@runtime_checkable
class SupportsRanked(Protocol):
    """An online arm's ranking with unreleased documents hidden."""

    def ranked(self, query: str, k: int, hidden: Any = None) -> tuple[Any, Any]:
        """``(docnos, scores)`` of the top ``k``, best first, leaving out ``hidden`` (a mask
        over the arm's ``docnos``)."""


@runtime_checkable
class SupportsSearch(Protocol):
    """An online arm's ranking as ``(docno, score)`` pairs."""

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The top ``k`` ``(docno, score)`` pairs, best first."""


class FeaturizerContract(Protocol):
    """ltrr's own context features (not a plugin kind): only the flag the loop reads."""


@dataclass(frozen=True)
class Ability:
    """One optional ability of a kind.

    Attributes:
        name: the attribute's name on the component.
        sort: ``"flag"`` (a declared truth value, ``default`` when undeclared), ``"value"`` (a
            declared value, ``default`` when undeclared), ``"method"`` (whether the component
            has it as a callable) or ``"attribute"`` (its value; None when absent).
        default: a flag's or value's default when the component does not declare it.
        doc: what it means, for messages and docs.
    """

    name: str
    sort: str
    default: Any = None
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    """A pluggable kind: its protocol (the required methods) and its optional abilities."""

    name: str
    protocol: type
    abilities: tuple[Ability, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """The protocol's methods, in the order it declares them."""
        return members(self.protocol)


def members(protocol: type) -> tuple[str, ...]:
    """The public methods a protocol declares, in order."""
    return tuple(name for name, value in vars(protocol).items()
                 if callable(value) and not name.startswith("_"))


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("policy", PolicyContract, (
        Ability("uses_context", "flag", True, "reads the context vector, and so pays for the "
                "post-retrieval probe; False: given a zero vector, pays nothing"),
        Ability("uses_truth", "flag", False, "chooses by the simulator's expected rewards: the "
                "oracle's alone, refused for an outside policy"),
        Ability("uses_arm_rewards", "flag", False, "update() is given each arm's click credit "
                "(arm_rewards), the semi-bandit's feedback"),
        Ability("uses_training", "flag", False, "learns from the training topics first: "
                "fit(training) is called before the first choice"),
        Ability("probabilities", "method", doc="probabilities(context): the distribution "
                "choose() draws from, drawing nothing (SupportsProbabilities)"),
        Ability("arrays", "method", doc="arrays(): the compiled loop's state (ltrr's own "
                "policies; any other is played by the per-step loop)"),
        Ability("min_plans", "value", 1, "the fewest plans it can choose between (obp's "
                "policies need 2); a smaller plan space is refused when it is built"),
        Ability("n_plans", "attribute", doc="the number of plans it was built for"),
        Ability("name", "attribute", doc="its name in messages"),
    )),
    Kind("arm", ArmContract, (
        Ability("fuse_rank_cutoff", "method", doc="fuse_rank_cutoff(k): the arm at depth k "
                "(SupportsFuseRankCutoff); without it ltrr cuts the ranking"),
        Ability("cache_key", "attribute", doc="a string joining the key of the cached lists "
                "(a change the key cannot see, such as a model file)"),
    )),
    Kind("online arm", OnlineArmContract, (
        Ability("ranked", "method", doc="ranked(query, k, hidden=None) -> (docnos, scores) "
                "(SupportsRanked); an online arm has it or search"),
        Ability("search", "method", doc="search(query, k) -> [(docno, score), ...] "
                "(SupportsSearch), asked when it has no ranked"),
        Ability("docnos", "attribute", doc="the documents it knows, which ranked's hidden "
                "mask is over (unreleased documents are hidden)"),
        Ability("load", "method", doc="load(): build or open its index before a run's first "
                "step"),
    )),
    Kind("ranker", RankerContract, (
        Ability("n_trees", "attribute", doc="the size of the trained model, for records"),
        Ability("model_format", "attribute", doc="the name its saved models are written under; "
                "with from_string() (and a model's to_string()) its trained models are cached, "
                "without it the ranker is trained every run"),
        Ability("from_string", "method", doc="from_string(text, params, feature_names): a "
                "model from what its to_string() wrote (ValueError for text it cannot read)"),
    )),
    Kind("click model", ClickModelContract, ()),
    Kind("featurizer", FeaturizerContract, (
        Ability("needs_candidates", "flag", False, "its features read the post-retrieval "
                "probe's candidates"),
    )),
)}
ABILITIES: dict[tuple[str, str], Ability] = {(kind.name, a.name): a for kind in KINDS.values()
                                             for a in kind.abilities}
PLUGIN_KINDS = ("policy", "arm", "online arm", "ranker", "click model")


def ability(obj: object, kind: str, name: str) -> Any:
    """What component ``obj`` of ``kind`` declares for optional ability ``name``: a flag's
    value as a bool (its default when undeclared), whether it has a method (callable), or an
    attribute's value (None when absent)."""
    spec = ABILITIES.get((kind, name))
    if spec is None:
        raise KeyError(f"no ability {name!r} of kind {kind!r} in ltrr.contracts.ABILITIES")
    if spec.sort == "flag":
        return bool(getattr(obj, name, spec.default))
    if spec.sort == "value":
        return getattr(obj, name, spec.default)
    if spec.sort == "method":
        return callable(getattr(obj, name, None))
    return getattr(obj, name, None)


def missing_methods(obj: object, kind: str) -> list[str]:
    """The required methods of ``kind`` that ``obj`` (an object or a class) lacks as
    callables; empty when it conforms."""
    return [m for m in kind_of(kind).required if not callable(getattr(obj, m, None))]


def conforms(obj: object, kind: str) -> bool:
    """Whether ``obj`` has every required method of ``kind`` (an online arm also needs
    ``ranked`` or ``search``)."""
    if missing_methods(obj, kind):
        return False
    return kind != "online arm" or ability(obj, kind, "ranked") or ability(obj, kind, "search")


def kind_of(name: str) -> Kind:
    """The plugin kind called ``name`` (``online-arm`` and ``click-model`` spelled with a hyphen are
    accepted too); InputError listing the kinds otherwise."""
    kind = KINDS.get(name.replace("-", " ")) if isinstance(name, str) else None
    if kind is None or kind.name not in PLUGIN_KINDS:
        raise InputError(f"unknown kind '{name}' (expected one of "
                         f"{', '.join(k.replace(' ', '-') for k in PLUGIN_KINDS)})")
    return kind


def markdown_table() -> str:
    """The plugin kinds' contracts as the Markdown table in ``docs/plugins.md`` (a test fails
    when the docs' copy is stale): the protocol, its required methods and the optional
    abilities with their defaults."""
    rows = ["| kind | protocol (`ltrr.contracts`) | required | optional (default) |",
            "|---|---|---|---|"]
    for name in PLUGIN_KINDS:
        kind = KINDS[name]
        required = ", ".join(f"`{m}`" for m in kind.required)
        optional = ", ".join(f"`{a.name}` ({a.default})" if a.sort in ("flag", "value")
                             else f"`{a.name}()`" if a.sort == "method" else f"`{a.name}`"
                             for a in kind.abilities) or "none"
        rows.append(f"| {name} | `{kind.protocol.__name__}` | {required} | {optional} |")
    return "\n".join(rows)


__all__ = ["ABILITIES", "KINDS", "PLUGIN_KINDS", "Ability", "ArmContract", "ClickModelContract",
           "FeaturizerContract", "Kind", "OnlineArmContract", "PolicyContract", "RankerContract",
           "SupportsFuseRankCutoff", "SupportsProbabilities", "SupportsRanked", "SupportsSearch",
           "ability", "conforms", "kind_of", "markdown_table", "members", "missing_methods"]
