"""The Open Bandit Dataset sample that ships inside obp, read with current pandas.

obp 0.4.1's ``OpenBanditDataset`` calls ``DataFrame.drop(col, 1)`` and ``pd.concat(.., 1)``
with a positional axis, which pandas 2 deprecated and pandas 3 removed, and relies on
``get_dummies`` returning ``uint8``. This loader performs the same steps with today's
pandas/numpy and returns the dictionary obp's ``obtain_batch_bandit_feedback()`` returns
(``n_rounds, n_actions, action, position, reward, pscore, context, action_context``),
so obp's estimators and policies take it unchanged.

Reproduction notes (checked against arrays produced by stock obp under pandas 1.5.3):

- obp sorts rows by the ``timestamp`` string with pandas' default ``quicksort``, which is
  not stable. We sort the same object array with numpy's ``quicksort`` like pandas 1.5
  did, which reproduces obp's order, including the order of rows with equal timestamps.
- ``position`` is dense-ranked to 0-based integers; ``context`` is the one-hot encoding
  of the user features with the first level dropped, as ``uint8``; ``action_context`` is
  the label-encoded item features followed by the numeric ``item_feature_0``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.preprocessing import LabelEncoder

from ltrr.errors import InputError

BEHAVIOR_POLICIES = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")


def sample_dir() -> Path:
    """Folder of the small OBD sample inside the installed obp package."""
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("obp")
    if spec is None or spec.origin is None:
        raise InputError("obp is not installed; the Open Bandit Dataset sample ships with it")
    return Path(spec.origin).parent / "dataset" / "obd"


def load(behavior_policy: str, campaign: str, data_path: Path | None = None) -> dict:
    """Logged bandit feedback of one OBD behaviour policy and campaign.

    ``data_path`` is the dataset root holding ``<policy>/<campaign>/<campaign>.csv``
    (default: the sample inside obp). Returns obp's ``BanditFeedback`` dictionary.
    """
    if behavior_policy not in BEHAVIOR_POLICIES:
        raise InputError(f"behavior policy must be one of {BEHAVIOR_POLICIES}, got {behavior_policy!r}")
    if campaign not in CAMPAIGNS:
        raise InputError(f"campaign must be one of {CAMPAIGNS}, got {campaign!r}")
    folder = Path(data_path or sample_dir()) / behavior_policy / campaign
    log_file = folder / f"{campaign}.csv"
    if not log_file.exists():
        raise InputError("file not found", file=str(log_file))
    data = pd.read_csv(log_file, index_col=0)
    item_context = pd.read_csv(folder / "item_context.csv", index_col=0)

    timestamps = data["timestamp"].to_numpy(dtype=object)
    data = data.iloc[np.argsort(timestamps, kind="quicksort")]

    action = data["item_id"].to_numpy(dtype=np.int64)
    position = (rankdata(data["position"].to_numpy(), "dense") - 1).astype(np.int64)
    user_cols = [c for c in data.columns if "user_feature" in c]
    context = pd.get_dummies(data[user_cols].astype(object), drop_first=True).to_numpy(dtype=np.uint8)
    item_cat = item_context.drop(columns="item_feature_0").apply(LabelEncoder().fit_transform)
    action_context = pd.concat([item_cat, item_context["item_feature_0"]], axis=1).to_numpy(
        dtype=np.float64
    )
    return {
        "n_rounds": int(len(data)),
        "n_actions": int(action.max() + 1),
        "action": action,
        "position": position,
        "reward": data["click"].to_numpy(dtype=np.int64),
        "pscore": data["propensity_score"].to_numpy(dtype=np.float64),
        "context": context,
        "action_context": action_context,
    }


def on_policy_value(behavior_policy: str, campaign: str, data_path: Path | None = None) -> float:
    """Mean observed reward of a behaviour policy: obp's on-policy ground truth."""
    return float(load(behavior_policy, campaign, data_path)["reward"].mean())
