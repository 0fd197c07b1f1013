"""The per-step arithmetic of the simulated world, compiled with numba.

What every interaction computes, whichever room asks: the candidate pool of the arms' lists
(:mod:`.pools`), every plan's fused page under the tie rule (:mod:`.pages`), the stated
precision arm scores are compared at and the seeded tie keys (:mod:`.ties`), the click
models' closed forms and click sampling (:mod:`.clicks`), and the rewards a page pays, in
expectation and as sampled (:mod:`.rewards`). The simulated world
(:mod:`ltrr.simulation`) and the ranking stage (:mod:`ltrr.ranking`) both import it; it
imports no other room of ltrr, so neither of them has to import the other.

Every function here is a pure function of its arguments (the click sampler draws from the
``numpy.random.Generator`` it is given, through numba's support for numpy Generators: the
same draws as numpy's own). Compiled functions are cached on disk by numba (``cache=True``),
so a process pays the compilation once per machine.
"""
