"""``ltrr reproduce RECORD.json...``: rerun each record's policy x seed and compare.

    ltrr reproduce results/music/linucb-seed0.json [--benchmark FILE] [--quiet]
    ltrr reproduce A.json B.json ... [--list results/REPRODUCED.txt]

The benchmark file is the one the record names (``provenance.benchmark_file``, as written:
relative to the current folder, else to a folder above the record's, e.g. the repository
root for ``results/music/...``; ``--benchmark`` to give it). Its SHA-256 is checked against
the record's and a difference is said plainly (the rerun then uses the file as it is now).
The policy runs with the record's own ``policy_params`` (the tuned setting: nothing is
re-tuned), on the record's seed and stream length, through the harness that made the record
(:meth:`ltrr.experiments.cell_runner.CellRunner.play`). A record made by ``ltrr sweep`` (its
``provenance.sweep``) names a setting the benchmark file does not list: its own policy entry
is run on that file (:func:`ltrr.experiments.sweep.cell_benchmark`).

Compared: every metric, every learning curve, the plan ids, the feature groups and the
ranking stage's description (but whether a learned ranker was trained or loaded from the
cache). Integers, strings and booleans must be equal; floats must agree
to a relative tolerance of 1e-9 (absolute 1e-12 near zero; two NaNs agree), which admits
only last-digit noise from another CPU or BLAS build. A curve is one entry, reported with
its largest difference. Exit code 0: everything matches; 1: something differs (listed, with
by how much); 2: bad input (no such record, not a record, a missing field, no benchmark
file, a policy label the file lacks).

Notes say what may explain a difference: a changed benchmark file, another ltrr version or
commit, key package versions other than the record's (``provenance.packages``), and the
environment: a record made in the locked environment (``provenance.environment``,
:mod:`ltrr.results.environment`) rerun where the installed versions differ from the lock
(the packages are named), or under another lock file; a record made outside it rerun in
another environment than its own. Every record carries a hash of each arm's candidate
lists (``candidate_lists``: the static arms' lists as cached, the memory arm's lists of that
run); the rerun's hashes are compared with them, and a note names the arms whose lists
differ, where a value that does not match most likely comes from (an index or model built
by another library version).

Several records (``A.json B.json ...``, and/or ``--list FILE``: one path a line, ``#``
comments; a relative path is taken from the current folder, else from the list file's
folder or a folder above it, e.g. the repository root for ``results/REPRODUCED.txt``) are
reproduced one after the other, each with its report, and end with a one-line verdict per
record. Exit code 2 when any record was bad input (the others are still reproduced), else 1
when any differs, else 0.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ltrr.errors import InputError
from ltrr.results.records import is_number

if TYPE_CHECKING:
    from ltrr.experiments.benchmark import Benchmark

REL_TOL, ABS_TOL = 1e-9, 1e-12
COMPARED = ("metrics", "curves", "plans", "features", "ranker")
# where a learned ranker's model came from (trained now, or loaded from ltrr's cache): how the
# run got it, not what it is (its data hash is in the cache key)
NOT_COMPARED = ("ranker.source",)


@dataclass
class Difference:
    """One field that differs: ``recorded`` and ``reproduced`` as shown, and the largest
    absolute and relative difference (None for a non-number)."""

    field: str
    recorded: str
    reproduced: str
    absolute: float | None = None
    relative: float | None = None


@dataclass
class Reproduction:
    """The outcome: what was compared, what differs, and whether the benchmark file did."""

    record: Path
    benchmark: Path
    recorded_sha256: str
    sha256: str
    compared: int = 0
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def locate_benchmark(record: dict, record_path: Path, given: str | Path | None = None) -> Path:
    """The benchmark file of ``record``: ``given``, else the record's path as written,
    relative to the current folder or to a folder above the record's."""
    if given is not None:
        if not Path(given).is_file():
            raise InputError("no such benchmark file", file=str(given), field="--benchmark")
        return Path(given)
    written = Path(record["provenance"]["benchmark_file"])
    tries = [written] if written.is_absolute() else \
        [written] + [folder / written for folder in Path(record_path).resolve().parents]
    for path in tries:
        if path.is_file():
            return path
    raise InputError(f"the benchmark file '{written}' is not found (from the current folder "
                     "or above the record); give it with --benchmark FILE", file=str(record_path),
                     field="provenance.benchmark_file")


def rerun(record: dict, record_path: Path, benchmark: Benchmark, progress: bool = False) -> dict:
    """Replay the record's cell on ``benchmark`` (the loaded file it names); returns the
    reproduced fields of :data:`COMPARED`, as JSON would store them."""
    from ltrr.experiments.cell import Cell
    from ltrr.experiments.cell_runner import CellRunner, json_ready
    from ltrr.experiments.runner import prepare, select

    if "sweep" in record["provenance"]:  # a sweep's cell: its policy entry is the record's
        from ltrr.experiments.sweep import cell_benchmark

        benchmark = cell_benchmark(benchmark, record)
    label, seed, length = record["policy"], record["seed"], record["stream_length"]
    spec = next((p for p in benchmark.policies if p.label == label), None)
    if spec is None:
        raise InputError(f"policy '{label}' is not in {benchmark.path} (it has "
                         f"{', '.join(p.label for p in benchmark.policies)})",
                         file=str(record_path), field="policy")
    if spec.name != record["policy_name"]:
        raise InputError(f"is '{record['policy_name']}', but {benchmark.path} runs "
                         f"'{spec.name}' under the label '{label}'", file=str(record_path),
                         field="policy_name")
    benchmark = select(benchmark, None, [label], length)
    benchmark.seeds = [seed]
    world, featurizer, stages = prepare(benchmark)
    runner = CellRunner(benchmark, world, featurizer, stages=stages)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=length, desc=f"{label} seed {seed}", unit="q", mininterval=1.0)
    played = runner.play(Cell(label, spec.name, dict(record["policy_params"]), seed, length), bar)
    if bar is not None:
        bar.close()
    out = {"metrics": played.metrics, "curves": played.curves, "plans": list(world.plan_ids),
           "features": list(played.featurizer.groups), "ranker": runner.ranking(played.stage),
           "candidate_lists": dict(played.trace.list_hashes)}
    return json_ready(out)  # what a record would hold (tuples -> lists, ...)


def _close(a: object, b: object) -> bool:
    if is_number(a) and is_number(b) and not (isinstance(a, int) and isinstance(b, int)):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=REL_TOL,
                                                                 abs_tol=ABS_TOL)
    return a == b


def _gap(a: float, b: float) -> tuple[float, float]:
    if math.isnan(a) or math.isnan(b):
        return math.nan, math.nan
    diff = abs(a - b)
    return diff, diff / max(abs(a), abs(b)) if max(abs(a), abs(b)) > 0 else 0.0


def _show(value: object) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def compare(recorded: object, reproduced: object, name: str) -> tuple[int, list[Difference]]:
    """``(values compared, differences)`` between a recorded and a reproduced field:
    objects key by key, lists of numbers as one entry (its largest difference)."""
    if isinstance(recorded, dict) and isinstance(reproduced, dict):
        count, out = 0, []
        for key in list(recorded) + [k for k in reproduced if k not in recorded]:
            sub = f"{name}.{key}"
            if key in recorded and key in reproduced:
                n, diffs = compare(recorded[key], reproduced[key], sub)
            else:
                n, diffs = 1, [Difference(sub, _show(recorded.get(key, "missing")),
                                          _show(reproduced.get(key, "missing")))]
            count, out = count + n, out + diffs
        return count, out
    if isinstance(recorded, list) and isinstance(reproduced, list) and recorded \
            and all(is_number(v) for v in recorded + reproduced):
        if len(recorded) != len(reproduced):
            return 1, [Difference(name, f"{len(recorded)} points", f"{len(reproduced)} points")]
        bad = [i for i, (a, b) in enumerate(zip(recorded, reproduced)) if not _close(a, b)]
        if not bad:
            return 1, []
        gaps = [_gap(float(recorded[i]), float(reproduced[i])) for i in bad]
        worst = max(range(len(bad)), key=lambda j: (not math.isnan(gaps[j][0]), gaps[j][0]))
        i = bad[worst]
        return 1, [Difference(f"{name} ({len(bad)} of {len(recorded)} points; largest at "
                              f"point {i})", _show(recorded[i]), _show(reproduced[i]),
                              *gaps[worst])]
    if _close(recorded, reproduced):
        return 1, []
    gaps = _gap(float(recorded), float(reproduced)) if is_number(recorded) and \
        is_number(reproduced) else (None, None)
    return 1, [Difference(name, _show(recorded), _show(reproduced), *gaps)]


def reproduce(record_path: str | Path, benchmark: str | Path | None = None,
              progress: bool = False) -> Reproduction:
    """Rerun a record's policy x seed and compare (see the module docstring)."""
    from ltrr import __version__
    from ltrr.experiments.benchmark import load_benchmark
    from ltrr.results.records import RERUN_FIELDS, git_state, read_record

    record_path = Path(record_path)
    record = read_record(record_path, RERUN_FIELDS)
    path = locate_benchmark(record, record_path, benchmark)
    bench = load_benchmark(path)
    sha = bench.sha256
    prov = record["provenance"]
    out = Reproduction(record_path, path, prov["benchmark_sha256"], sha)
    if sha != prov["benchmark_sha256"]:
        out.notes.append(f"the benchmark file has changed since the record was made: its "
                         f"SHA-256 is {sha}, the record's {prov['benchmark_sha256']}; the "
                         "rerun uses the file as it is now")
    now = git_state(path.resolve().parent).get("commit")
    then = (prov.get("git") or {}).get("commit")
    if prov["ltrr_version"] != __version__ or (then and now and then != now):
        out.notes.append(f"the record was made with ltrr {prov['ltrr_version']} at commit "
                         f"{then}; this is ltrr {__version__} at commit {now}")
    out.notes += environment_notes(prov)
    again = rerun(record, record_path, bench, progress)
    for name in NOT_COMPARED:
        top, key = name.split(".")
        for side in (record, again):
            if isinstance(side.get(top), dict):
                side[top].pop(key, None)
    for key in COMPARED:
        n, diffs = compare(record.get(key), again[key], key)
        out.compared += n
        out.differences += diffs
    out.notes += list_notes(record.get("candidate_lists"), again["candidate_lists"],
                            bool(out.differences))
    return out


def list_notes(recorded: dict | None, reproduced: dict, differs: bool) -> list[str]:
    """Which arms' candidate lists (their hashes, ``candidate_lists`` in a record) differ
    from the record's: where a value that does not match most likely comes from (an index
    or model that changed, another library build)."""
    if not recorded:
        return ["the record carries no hashes of its candidate lists (made before ltrr "
                "recorded them): which arm's lists changed cannot be said"] if differs else []
    changed = sorted(a for a in set(recorded) | set(reproduced)
                     if recorded.get(a) != reproduced.get(a))
    if not changed:
        return ["every arm's candidate lists are the record's (same hashes): a difference "
                "comes from elsewhere (the code, a package)"] if differs else []
    return [f"the candidate lists of arm(s) {', '.join(changed)} differ from the record's "
            f"({'; '.join(f'{a}: {recorded.get(a)} then, {reproduced.get(a)} now' for a in changed)})"
            + (": the values that differ follow from them" if differs else "")]


def environment_notes(prov: dict, now: dict | None = None,
                      packages: dict | None = None) -> list[str]:
    """What differs between the environment a record was made in (its provenance) and this
    one (``now``: :func:`ltrr.results.environment.environment`; ``packages``: the key
    package versions, :func:`ltrr.results.records.package_versions`)."""
    from ltrr.results.environment import differs_text, environment
    from ltrr.results.records import package_versions

    now = environment() if now is None else now
    packages = dict(package_versions()) if packages is None else packages
    notes = []
    recorded = prov.get("packages")
    if isinstance(recorded, dict):
        moved = [f"{name} {recorded[name]} then, {packages.get(name)} now"
                 for name in recorded if name in packages and recorded[name] != packages[name]]
        if moved:
            notes.append("key package versions differ from the record's: " + "; ".join(moved))
    then = prov.get("environment")
    if not isinstance(then, dict):
        return notes
    lock = then.get("lock") or "the lock file"
    sha = str(then.get("lock_sha256"))[:12]
    if then.get("locked") is True:
        if not now.get("lock"):
            notes.append(f"the record was made in the locked environment ({lock}, SHA-256 "
                         f"{sha}); here ltrr has no lock file beside it, so this environment "
                         "cannot be checked against it")
        elif now.get("lock_sha256") != then.get("lock_sha256"):
            notes.append(f"the record was made in the locked environment of another lock "
                         f"({lock}, SHA-256 {sha}); here {now['lock']} has SHA-256 "
                         f"{str(now['lock_sha256'])[:12]}"
                         + ("" if now.get("locked") else
                            f", and this environment differs from it: "
                            f"{differs_text(now.get('differs') or {})}"))
        elif not now.get("locked"):
            notes.append(f"the record was made in the locked environment ({lock}, SHA-256 "
                         f"{sha}); this environment is not: "
                         f"{differs_text(now.get('differs') or {})}")
    elif (then.get("lock_sha256"), then.get("differs")) != (now.get("lock_sha256"),
                                                          now.get("differs")):
        differs = then.get("differs") or {}  # (rerun in the same unlocked environment: no note)
        notes.append("the record was not made in the locked environment"
                     + (f" (it differed from {lock}: {differs_text(differs)})"
                        if isinstance(differs, dict) and differs else ""))
    return notes


def report(rep: Reproduction) -> str:
    """The outcome as text: the notes, then ``all N values match`` or a table of differences."""
    lines = [f"record: {rep.record}", f"benchmark file: {rep.benchmark} (SHA-256 "
             + ("matches the record's)" if rep.sha256 == rep.recorded_sha256 else "DIFFERS)")]
    lines += [f"note: {note}" for note in rep.notes]
    lines.append(f"compared {rep.compared} values (floats to a relative tolerance of {REL_TOL:g}, "
                 f"absolute {ABS_TOL:g}; integers, strings and booleans exactly)")
    if rep.matches:
        lines.append(f"reproduced: all {rep.compared} values match")
        return "\n".join(lines) + "\n"
    lines += [f"NOT reproduced: {len(rep.differences)} of {rep.compared} differ", "",
              "| field | recorded | reproduced | abs. difference | rel. difference |",
              "|---|---|---|---|---|"]
    for d in rep.differences:
        gap = "" if d.absolute is None else f"{d.absolute:.3g}"
        rel = "" if d.relative is None else f"{d.relative:.3g}"
        lines.append(f"| {d.field} | {d.recorded} | {d.reproduced} | {gap} | {rel} |")
    return "\n".join(lines) + "\n"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reproduce`` command."""
    p = subparsers.add_parser("reproduce", help="rerun result records and compare every metric",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("records", metavar="RECORD.json", nargs="*",
                   help="result records (<label>-seed<k>.json)")
    p.add_argument("--list", metavar="FILE", action="append", default=[],
                   help="a file listing records, one a line (e.g. results/REPRODUCED.txt)")
    p.add_argument("--benchmark", metavar="FILE",
                   help="the benchmark file (default: the one each record names)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_reproduce)


def read_list(path: str | Path) -> list[Path]:
    """The records a list file names (see the module docstring)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", file=str(path), field="--list") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot be read ({err.__class__.__name__})", file=str(path),
                         field="--list") from None
    out = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        written = Path(entry)
        tries = [written] if written.is_absolute() else \
            [written] + [folder / written for folder in Path(path).resolve().parents]
        out.append(next((p for p in tries if p.is_file()), written))
    if not out:
        raise InputError("lists no record", file=str(path), field="--list")
    return out


def verdict(path: Path, rep: Reproduction | None, error: str | None, seconds: float) -> str:
    """One line: ``reproduced``, ``DIFFERS`` or ``BAD INPUT``, the record and why."""
    if rep is None:
        return f"BAD INPUT   {error if str(error).startswith(str(path)) else f'{path}: {error}'}"
    if rep.matches:
        return f"reproduced  {path}: all {rep.compared} values match ({seconds:.0f} s)"
    fields = ", ".join(d.field.split(" (")[0] for d in rep.differences[:3])
    more = ", ..." if len(rep.differences) > 3 else ""
    return (f"DIFFERS     {path}: {len(rep.differences)} of {rep.compared} values differ "
            f"({fields}{more}; {seconds:.0f} s)")


def _reproduce(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.records]
    for listed in args.list:
        paths += read_list(listed)
    if not paths:
        raise InputError("no record given: name one or more RECORD.json, or --list FILE")
    if len(paths) == 1 and not args.list:
        rep = reproduce(paths[0], args.benchmark, progress=not args.quiet)
        print(report(rep), end="")
        return 0 if rep.matches else 1
    lines, bad, differ = [], 0, 0
    for i, path in enumerate(paths, 1):
        print(f"== record {i} of {len(paths)}: {path}", flush=True)
        start = time.perf_counter()
        try:
            rep = reproduce(path, args.benchmark, progress=not args.quiet)
        except InputError as err:
            print(f"ltrr reproduce: error: {err}", file=sys.stderr, flush=True)
            bad += 1
            lines.append(verdict(path, None, str(err), 0.0))
            continue
        print(report(rep), flush=True)
        differ += not rep.matches
        lines.append(verdict(path, rep, None, time.perf_counter() - start))
    print(f"== {len(paths)} records: {len(paths) - bad - differ} reproduced, {differ} differ, "
          f"{bad} bad input")
    print("\n".join(lines))
    return 2 if bad else 1 if differ else 0
