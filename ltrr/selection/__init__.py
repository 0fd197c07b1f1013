"""Retrieval selection: which arms to call per query, and how deep.

Plans and plan spaces (:mod:`.plans`), the policies that choose among them with exact
propensities (:mod:`.policies`; their base class in :mod:`.policies.plan_policy`), what a policy
knows about a query before choosing (:mod:`.context`: the context featurizer), the contract
between the loop and every policy (:mod:`.base`) and the selector as a PyTerrier transformer
(:mod:`.selector`).
"""
