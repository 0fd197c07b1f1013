"""Each compatibility shim in ltrr.compat, tested on the obp code path that needs it."""

from __future__ import annotations

import numpy as np

from ltrr import compat


def test_patch_numpy_restores_removed_aliases() -> None:
    compat.patch_numpy()
    assert np.int is int and np.float is float and np.object is object
    assert np.bool in (bool, np.bool_)  # numpy 2 brought np.bool back as np.bool_
    compat.patch_numpy()  # idempotent
    assert np.int is int


def test_obp_code_using_np_int_runs() -> None:
    """IPWLearner.fit without pscore calls ``np.int(...)``, removed in numpy 2."""
    obp = compat.obp()
    rng = np.random.default_rng(0)
    context = rng.normal(size=(200, 3))
    action = rng.integers(3, size=200)
    reward = rng.integers(2, size=200)
    learner = obp.policy.IPWLearner(n_actions=3)
    learner.fit(context=context, action=action, reward=reward)
    assert learner.predict(context).shape == (200, 3, 1)


def test_obp_module_has_ope_and_policy() -> None:
    obp = compat.obp()
    assert hasattr(obp.ope, "OffPolicyEvaluation") and hasattr(obp.policy, "BernoulliTS")
