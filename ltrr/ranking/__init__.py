"""The ranking stage: what orders a step's candidate union into the page a user sees, in the
loop and as PyTerrier transformers.

Fusion (:mod:`.fusion`), the learned ranker (:mod:`.learned`: LambdaMART, its training modes;
:mod:`.checked_ranker`: outside rankers, their scores checked), its features
(:mod:`.features`), its training data from a dataset's topics (:mod:`.training_data`) and training with a model cache (:mod:`.training`,
:mod:`.store`), click logs (:mod:`.clicklogs`), the loop's learned stage (:mod:`.stage`) and
the PyTerrier face (:mod:`.pipeline`). The offline ``ltrr rank`` experiment that compares
rankers is :mod:`ltrr.experiments.rank`.
"""
