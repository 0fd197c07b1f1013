"""Helpers for plugin authors' tests: ``check_component`` is ``ltrr check`` inside pytest.

    from ltrr.testing import check_component

    def test_my_policy_keeps_the_contract():
        check_component("mypkg.policies:Softmax")          # or the class itself

It fails the test with an ``AssertionError`` listing every violation (one line each: the
check, what was expected, what was seen); on success it returns the
:class:`ltrr.check.Report`, whose ``passed`` names the checks run.
"""

from __future__ import annotations

from ltrr.check import Report, check


def check_component(component: object, kind: str | None = None,
                    params: dict | str | None = None) -> Report:
    """Run ``component`` (a class, factory or object, or a name as a benchmark file gives it)
    through its kind's contract on ltrr's tiny world (:func:`ltrr.check.check`).

    Args:
        component: what to check; a factory function needs ``kind``.
        kind: ``policy``, ``arm``, ``online arm``, ``ranker`` or ``click model``; inferred
            from the methods when left out.
        params: the hyper-parameters or constructor keys (a click model's may be a string).

    Raises:
        AssertionError: listing every violation.
        ltrr.errors.InputError: an unknown name, or a kind that cannot be inferred.
    """
    report = check(component, kind, params)
    if not report.ok:
        raise AssertionError(str(report))
    return report
