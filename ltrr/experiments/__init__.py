"""The experiment harness: benchmark files, the runner (tuning, cells, records), decision logs.

Apart from the simulated world (:mod:`ltrr.simulation`: stream, click models, the loop), which
it drives: a benchmark file is read and checked (:mod:`.benchmark`, a plain description), the
world prepared once, and every (policy, setting, seed) cell (:mod:`.cell`) played and recorded
(:mod:`.cell_runner`, :mod:`.runner`); :mod:`.api` runs a file from Python. The same room holds the
other experiments: sweeps (:mod:`.sweep`), ``ltrr reproduce`` (:mod:`.reproduce`), the
offline ranker comparison ``ltrr rank`` (:mod:`.rank`) and the OPE ground truth from the
simulator (:mod:`.ope_truth`).
"""
