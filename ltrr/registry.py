"""One registry mechanism for every pluggable kind: policies, arms, rankers and click models.

A benchmark file (or the Python API) names a component by a string; :meth:`Registry.resolve`
turns it into the class or factory behind it, trying in order:

1. a built-in name (``linucb``, ``lexical``, ``lambdamart``, ``pbm``), exactly as before;
2. a name registered in this process (:meth:`Registry.register`; the Python API registers the
   classes and factories it is handed this way);
3. an import path ``module:Name`` (``Name`` may be dotted: ``module:Outer.Inner``), imported with
   :mod:`importlib`;
4. an entry point of the kind's group (:data:`ENTRY_POINT_GROUPS`: ``ltrr.policies``,
   ``ltrr.arms``, ``ltrr.rankers``, ``ltrr.click_models``), which an installed package declares
   in its ``pyproject.toml`` as PyTerrier's extensions do::

       [project.entry-points."ltrr.policies"]
       softmax = "mypkg.policies:Softmax"

Built-in names cannot be taken by a registration or an entry point (a record saying ``linucb``
always means ltrr's LinUCB). Whatever a name resolves to is checked against its kind's
contract (``check``): a module, a number or a class of the wrong kind is refused with one
:class:`~ltrr.errors.InputError` saying what the name names instead. What each kind must
provide is documented in ``docs/plugins.md``.

Written by hand: ``importlib.metadata.entry_points`` finds the entry points (PyTerrier's
``pt.utils.entry_points`` is a shim over the same call); what is added here is the one lookup
order, the contract checks and the messages.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

from ltrr.errors import InputError

ENTRY_POINT_GROUPS = {"policy": "ltrr.policies", "arm": "ltrr.arms", "ranker": "ltrr.rankers",
                      "click model": "ltrr.click_models"}


def is_import_path(name: str) -> bool:
    """Whether ``name`` has the form ``module:Name`` (both parts non-empty)."""
    module, sep, attr = name.partition(":")
    return bool(sep and module and attr) and all(part.isidentifier()
                                                 for part in module.split(".") + attr.split("."))


def where_raised(err: BaseException) -> str:
    """``"TypeError: message (file.py:12)"``: an exception from outside code, in one line, with
    the innermost place it was raised (a plugin author needs the place, a user the message)."""
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, SyntaxError) and err.filename:
        return f"{text} ({err.filename}:{err.lineno})"
    frames = traceback.extract_tb(err.__traceback__)
    if frames:
        text += f" ({frames[-1].filename}:{frames[-1].lineno})"
    return text


def import_object(path: str, kind: str) -> object:
    """The object named by the import path ``module:Name``; InputError saying what failed."""
    module_name, _, attr = path.partition(":")
    try:
        obj = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is not None and (module_name == err.name
                                     or module_name.startswith(err.name + ".")):
            raise InputError(f"{kind} '{path}': cannot import module '{module_name}' (no module "
                             f"named '{err.name}'; is its package installed, or its folder on "
                             "PYTHONPATH?)") from None
        raise InputError(f"{kind} '{path}': importing module '{module_name}' failed: "
                         f"{where_raised(err)}") from None
    except Exception as err:  # the plugin's own import-time error, reported in one line
        raise InputError(f"{kind} '{path}': importing module '{module_name}' failed: "
                         f"{where_raised(err)}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{kind} '{path}': module '{module_name}' has no attribute "
                             f"'{attr}'") from None
        obj = getattr(obj, part)
    return obj


def source_hash(*objects: object) -> str:
    """A short SHA-1 of the source files defining ``objects`` (classes, functions, or
    instances, whose class is used; '' where there is none): a changed plugin file is a new
    cache key and a different record, never a stale one."""
    digest = hashlib.sha1()
    for obj in objects:
        target = obj if callable(obj) and (inspect.isclass(obj) or inspect.isroutine(obj)) \
            else type(obj)
        try:
            digest.update(Path(inspect.getsourcefile(target) or "").read_bytes())
        except (TypeError, OSError):
            continue
    return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def _distributions() -> dict[str, list[str]]:
    """Top-level module -> installed distributions (one scan of site-packages, about 0.2 s,
    made once per process rather than once per record)."""
    return metadata.packages_distributions()


def code_origin(obj: object) -> dict:
    """Where an outside component's code comes from, for result records: the object's
    ``module:qualname``, the hash of its source file (:func:`source_hash`) and the installed
    distribution that provides its module with its version (``None`` for a file on
    ``sys.path`` that no installed package owns)."""
    target = obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)
    module = getattr(target, "__module__", None) or ""
    top = module.split(".")[0]
    owners = _distributions().get(top, [])
    distribution = None
    if owners:
        try:
            distribution = f"{owners[0]}=={metadata.version(owners[0])}"
        except metadata.PackageNotFoundError:
            distribution = owners[0]
    return {"object": f"{module}:{getattr(target, '__qualname__', type(target).__name__)}",
            "source_sha1": source_hash(obj), "distribution": distribution}


@contextmanager
def plugin_errors(label: str, what: str):
    """Run outside code: an exception from it (not an InputError, which already names what
    is wrong) becomes one InputError, ``"<label>: <what> failed: <where_raised(err)>"``,
    so a plugin's failure reads as one line with its place, never a traceback."""
    try:
        yield
    except InputError:
        raise
    except Exception as err:
        raise InputError(f"{label}: {what} failed: {where_raised(err)}") from None


def describe(obj: object) -> str:
    """What an object is, for messages: ``a module``, ``the class X``, ``an int``."""
    if inspect.ismodule(obj):
        return "a module"
    if inspect.isclass(obj):
        return f"the class {obj.__qualname__}"
    if inspect.isfunction(obj):
        return f"the function {obj.__qualname__}"
    kind = type(obj).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind} object"


def has_methods(obj: object, names: tuple[str, ...]) -> list[str]:
    """The names in ``names`` that ``obj`` lacks as callables."""
    return [n for n in names if not callable(getattr(obj, n, None))]


@dataclass
class Registry:
    """The named components of one kind.

    Args:
        kind: the kind, for messages (``"policy"``).
        builtins: built-in name -> the object, or ``"module:attr"`` imported on first use (so
            naming an arm does not import every arm's heavy dependencies). The kind's one
            table of built-ins, held (not copied): a line added to it is a built-in everywhere
            (``docs/architecture.md``, "Adding a built-in").
        check: ``check(obj) -> problem or None``, the kind's contract on what a name may
            resolve to (a problem reads after "it is ...": ``"a module, not a policy class"``).
        unknown: ``unknown(name, known) -> message`` (or the InputError to raise) for a name
            that is none of the above (each kind keeps its own wording).
    """

    kind: str
    builtins: dict[str, object]
    check: Callable[[object], str | None]
    unknown: Callable[[str, list[str]], str | InputError]
    _local: dict[str, object] = field(default_factory=dict)
    _imported: dict[str, object] = field(default_factory=dict)

    @property
    def group(self) -> str:
        """The entry-point group of this kind (``ltrr.policies``...)."""
        return ENTRY_POINT_GROUPS[self.kind]

    def entry_points(self) -> dict[str, metadata.EntryPoint]:
        """Installed packages' entry points of this kind's group, by name (built-in names
        left out: they cannot be taken)."""
        found: dict[str, metadata.EntryPoint] = {}
        for ep in metadata.entry_points(group=self.group):
            if ep.name not in self.builtins and ep.name not in found:
                found[ep.name] = ep
        return found

    def names(self) -> list[str]:
        """Built-in names, then installed entry points (sorted): what an unknown name's
        message lists (this process's registrations are left out: the Python API makes them
        under import paths)."""
        return list(self.builtins) + sorted(self.entry_points())

    def is_builtin(self, name: str) -> bool:
        return name in self.builtins

    def origin(self, name: str) -> dict | None:
        """:func:`code_origin` of what ``name`` resolves to; ``None`` for a built-in (whose
        code is ltrr's own, named by the record's ltrr version and commit)."""
        return None if self.is_builtin(name) else code_origin(self.resolve(name))

    def register(self, name: str, obj: object) -> None:
        """Register ``obj`` under ``name`` for this process (a later registration of the same
        name replaces it, as a notebook cell run again would want); checked like a plugin."""
        if not isinstance(name, str) or not name:
            raise InputError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self.builtins:
            raise InputError(f"'{name}' is a built-in {self.kind}; register under another name")
        self._checked(name, obj)
        self._local[name] = obj

    def resolve(self, name: str) -> object:
        """The class or factory behind ``name`` (see the module docstring for the order)."""
        if not isinstance(name, str) or not name:
            raise InputError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        if name in self.builtins:
            obj = self.builtins[name]
            if isinstance(obj, str):  # an import path: imported once, the table left as written
                if obj not in self._imported:
                    self._imported[obj] = import_object(obj, self.kind)
                obj = self._imported[obj]
            return obj
        if name in self._local:
            return self._local[name]
        if is_import_path(name):
            return self._checked(name, import_object(name, self.kind))
        ep = self.entry_points().get(name)
        if ep is None:
            problem = self.unknown(name, self.names())
            raise problem if isinstance(problem, InputError) else InputError(problem)
        try:
            obj = ep.load()
        except Exception as err:  # the installed plugin's own import error, in one line
            raise InputError(f"{self.kind} '{name}': loading entry point '{ep.value}' "
                             f"({self.group}) failed: {where_raised(err)}") from None
        return self._checked(name, obj)

    def _checked(self, name: str, obj: object) -> object:
        problem = self.check(obj)
        if problem is not None:
            raise InputError(f"{self.kind} '{name}' is {describe(obj)}, not {problem}")
        return obj


def class_or_factory(kind: str, methods: tuple[str, ...]) -> Callable[[object], str | None]:
    """A contract check: a class with callable ``methods``, or a function (a factory, whose
    result is checked when it is built)."""
    def check(obj: object) -> str | None:
        if inspect.isclass(obj):
            missing = has_methods(obj, methods)
            if missing:
                return f"a {kind} class (it has no method {', '.join(missing)})"
            return None
        if callable(obj) and not inspect.ismodule(obj):
            return None
        return f"a {kind} class or factory"
    return check
