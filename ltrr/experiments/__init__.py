"""The experiment harness: benchmark files, the runner (tuning, cells, records), decision logs.

Apart from the simulated world (:mod:`ltrr.simulation`: stream, click models, the loop), which
it drives: a benchmark file is read and checked (:mod:`.benchmark`), the world prepared once,
and every (policy, setting, seed) cell played and recorded (:mod:`.runner`).
"""
