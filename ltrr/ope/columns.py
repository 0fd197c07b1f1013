"""Which column of a log plays which role: defaults, obp's names, and the mapping options.

Roles and how a column is found for each (first match wins):

=============  ===========================================  ===========================
role           default names                                option
=============  ===========================================  ===========================
action         ``action``                                   ``--action-column NAME``
propensity     ``propensity``, else obp's ``pscore``        ``--propensity-column NAME``
reward         ``reward``                                   ``--reward-column NAME``
context        every ``ctx_*`` column, else obp-style       ``--context a,b,c`` (a list),
               ``x0, x1, ...`` columns                      ``--context PREFIX*`` (every
                                                            column starting with PREFIX),
                                                            ``--context none``
=============  ===========================================  ===========================

A log without any context column is refused unless ``--context none`` says so: a reward
model on a constant context changes DM and DR silently, which is worse than stopping.
The columns used are recorded (:attr:`Roles.as_record`) in every ``ltrr ope`` output.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pandas as pd

from ltrr.decision_log import CONTEXT_PREFIX
from ltrr.errors import InputError

OBP_CONTEXT = re.compile(r"^x\d+$")  # obp's context array written as columns x0..xN
DEFAULTS = {"action": ("action",), "propensity": ("propensity", "pscore"), "reward": ("reward",)}
OPTIONS = {"action": "--action-column", "propensity": "--propensity-column",
           "reward": "--reward-column"}
# Names other tools use for our columns: only hints ("did you mean"), never taken silently.
HINTS = {"propensity_score": "propensity", "prob": "propensity", "probability": "propensity",
         "click": "reward", "clicks": "reward", "item_id": "action", "action_id": "action",
         "arm": "action"}


@dataclass(frozen=True)
class ColumnMap:
    """The user's mapping (``None``: the defaults of the table above)."""

    action: str | None = None
    propensity: str | None = None
    reward: str | None = None
    context: str | None = None  # "a,b,c", "PREFIX*", "none", or None


@dataclass(frozen=True)
class Roles:
    """The file's column for each role (``propensity`` is None when the log has none and
    the caller allowed it)."""

    action: str
    propensity: str | None
    reward: str
    context: list[str]
    context_rule: str  # how the context columns were found, for the output

    def as_record(self) -> dict:
        return {"action": self.action, "propensity": self.propensity, "reward": self.reward,
                "context": list(self.context), "context_rule": self.context_rule}


def present_list(present: list[str]) -> str:
    return f"columns present: {', '.join(present)}"


def find_role(present: list[str], source: str, role: str, named: str | None,
              required: bool = True) -> str | None:
    """The column for ``role``: the one ``named`` by its option, else the first default."""
    option = OPTIONS[role]
    if named is not None:
        if named not in present:
            raise InputError(f"{source}: missing column '{named}' (named by {option}) "
                             f"({present_list(present)})")
        return named
    for name in DEFAULTS[role]:
        if name in present:
            return name
    if not required:
        return None
    wanted = DEFAULTS[role][0]
    label = f"'{wanted}'" + "".join(f" or obp's '{alias}'" for alias in DEFAULTS[role][1:])
    close = [c for c in present if HINTS.get(c.lower()) == role]
    close = close or difflib.get_close_matches(wanted, present, n=1, cutoff=0.7)
    if close:
        raise InputError(f"{source}: missing column {label} (did you mean '{close[0]}'? "
                         f"map it with {option} {close[0]})")
    raise InputError(f"{source}: missing column {label} ({present_list(present)}); "
                     f"map yours with {option} NAME")


def find_context(present: list[str], source: str, spec: str | None,
                 taken: set[str]) -> tuple[list[str], str]:
    """The context columns and a description of the rule that found them."""
    if spec is not None and spec.strip().lower() == "none":
        return [], "none (--context none)"
    if spec is not None and spec.strip().endswith("*"):
        prefix = spec.strip()[:-1]
        names = [c for c in present if c.startswith(prefix) and c not in taken]
        if not names:
            raise InputError(f"{source}: no column starts with '{prefix}' (named by --context "
                             f"{spec.strip()}) ({present_list(present)})")
        return names, f"prefix {prefix}* (--context)"
    if spec is not None:
        names = [c.strip() for c in spec.split(",") if c.strip()]
        for name in names:
            if name not in present:
                starts = [c for c in present if c.startswith(name)]
                hint = (f"did you mean --context {name}*? {len(starts)} columns start with it"
                        if starts else present_list(present))
                raise InputError(f"{source}: missing column '{name}' (named by --context) ({hint})")
        return names, "listed (--context)"
    names = [c for c in present if c.startswith(CONTEXT_PREFIX)]
    if names:
        return names, f"prefix {CONTEXT_PREFIX}* (default)"
    names = [c for c in present if OBP_CONTEXT.match(c)]
    if names:
        return names, "obp-style x0..xN (default)"
    raise InputError(f"{source}: no context columns (none named {CONTEXT_PREFIX}* or x0, x1, ...; "
                     f"{present_list(present)}); name them with --context a,b,c or --context "
                     "PREFIX*, or pass --context none to evaluate without context")


def resolve(frame: pd.DataFrame, source: str, mapping: ColumnMap | None = None,
            propensity_required: bool = True) -> Roles:
    """Find the column of every role in ``frame``; :class:`InputError` on the first miss."""
    mapping = mapping or ColumnMap()
    present = [str(c) for c in frame.columns]
    action = find_role(present, source, "action", mapping.action)
    propensity = find_role(present, source, "propensity", mapping.propensity,
                           required=propensity_required)
    reward = find_role(present, source, "reward", mapping.reward)
    roles = {action, propensity, reward} - {None}
    if len(roles) < 3 - (propensity is None):
        raise InputError(f"{source}: one column plays two roles (action '{action}', "
                         f"propensity '{propensity}', reward '{reward}')")
    context, rule = find_context(present, source, mapping.context, roles)
    clash = sorted(set(context) & roles)
    if clash:
        raise InputError(f"{source}: column '{clash[0]}' is named as context but is also the "
                         "action, propensity or reward")
    return Roles(action=action, propensity=propensity, reward=reward, context=context,
                 context_rule=rule)
