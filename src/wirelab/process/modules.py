"""Which modules a simulated process sees: its own copies of everything that touches the system.

While a process's greenlet runs, ``sys.modules`` is that process's view, swapped in and out by the
scheduler at the one place where greenlets switch (:meth:`Scheduler._resume`):

- **Shims** for the system interfaces: ``_socket``, ``select``, ``_thread`` (this process's) and
  ``time`` (the simulator's clock); ``_ssl`` is absent (``import ssl`` fails, as on a Python built
  without OpenSSL, and http.client/urllib fall back to plain HTTP).
- **Fresh copies of the stdlib's own Python modules** built on them — ``socket``, ``selectors``,
  ``threading``, ``socketserver``, ``queue``, ``http.server``… — imported from their unchanged
  source the first time the process imports them, and kept as that process's modules. CPython's
  ``socket.py`` over our ``_socket`` is the socket module a script gets; ``threading.py`` over our
  ``_thread`` gives it real Thread/Condition/Event semantics on virtual time.
- The real interpreter's copies of modules that depend on the real ``socket``, ``select``,
  ``selectors``, ``time`` or ``threading`` (found by looking at what each stdlib module's namespace
  refers to, transitively) are hidden meanwhile, so the process imports its own instead.
- Modules that do not touch the system (``json``, ``re``, ``dataclasses``…) are shared.

A module the process imports is kept in its view if it refers to any module or function of the view
(``from socket import socket`` counts), else it joins the shared world. Each simulated process has its
own copies, as each real process has its own interpreter: ``socket.setdefaulttimeout`` or the
``threading`` module's thread table in one never leaks into another. Package attributes (``http.server``
on ``http``) follow the view they belong to.
"""

from __future__ import annotations

import sys
import types
from typing import Final

BASE: Final = ("socket", "_socket", "select", "selectors", "time", "threading", "_ssl", "ssl")
SHIM_NAMES: Final = frozenset({"_socket", "_thread", "time", "select"})
NEVER_HIDDEN: Final = frozenset(
    {
        "sys", "builtins", "os", "posix", "io", "_io", "abc", "codecs", "encodings", "types", "typing",
        "warnings", "weakref", "traceback", "linecache", "enum", "functools", "collections", "re",
        "importlib", "_frozen_importlib", "_frozen_importlib_external", "zipimport", "site", "_thread",
        "gc", "marshal", "errno", "stat", "posixpath", "genericpath", "operator", "itertools", "contextlib",
        "inspect", "dis", "tokenize", "token", "ast", "dataclasses", "copy", "copyreg", "atexit",
        "unittest", "pdb", "bdb", "faulthandler", "tracemalloc", "signal", "_signal", "ipaddress",
        "hashlib", "random", "struct", "math", "heapq", "bisect", "pathlib", "fnmatch", "argparse",
        "tomllib", "difflib", "textwrap", "string", "locale", "pprint", "reprlib", "numbers",
    }
)  # fmt: skip
_ABSENT: Final = object()
_CHECKED_TYPES: Final = (type, types.FunctionType, types.BuiltinFunctionType)

Overlay = dict[str, types.ModuleType | None]


def _refers(module: types.ModuleType, ids: set[int], names: set[str] | frozenset[str]) -> bool:
    try:
        values = list(vars(module).values())
    except TypeError:
        return False
    for value in values:
        if type(value) is types.ModuleType:
            if id(value) in ids:
                return True
        elif isinstance(value, _CHECKED_TYPES) and getattr(value, "__module__", None) in names:
            return True
    return False


def _stdlib(name: str) -> bool:
    top = name.partition(".")[0]
    return top in sys.stdlib_module_names and top not in NEVER_HIDDEN


class Views:
    """Per scheduler: the real modules to hide, and swapping a process's view in and out."""

    def __init__(self) -> None:
        self._seen = -1
        self._hidden: list[str] = []
        self._hidden_set: set[str] = set()
        self._world_keys: set[str] = set()

    def _scan(self) -> None:
        modules = sys.modules
        if len(modules) == self._seen:
            return
        tainted: set[str] = {name for name in BASE if name in modules}
        ids = {id(modules[name]) for name in tainted}
        names: set[str] = set(tainted)
        candidates = [
            (name, module)
            for name, module in list(modules.items())
            if isinstance(module, types.ModuleType) and name not in tainted and _stdlib(name)
        ]
        changed = True
        while changed:
            changed = False
            for name, module in candidates:
                if name not in tainted and _refers(module, ids, names):
                    tainted.add(name)
                    ids.add(id(module))
                    names.add(name)
                    changed = True
        for name in list(tainted):  # a hidden package's parent is hidden too (so its attributes follow)
            parent = name.rpartition(".")[0]
            while parent and _stdlib(parent):
                tainted.add(parent)
                parent = parent.rpartition(".")[0]
        packages = tuple(f"{name}." for name in tainted)  # and a hidden package's submodules, all of them,
        tainted.update(name for name in modules if name.startswith(packages))  # so that imports fill its attributes
        self._hidden = sorted(tainted, key=lambda name: name.count("."))
        self._hidden_set = tainted | set(BASE)
        self._world_keys = set(modules)
        self._seen = len(modules)

    @property
    def hidden(self) -> list[str]:
        self._scan()
        return self._hidden

    def install(self, overlay: Overlay) -> _Installed:
        self._scan()
        modules = sys.modules
        saved: dict[str, object] = {}
        for name in (*BASE, *self._hidden):
            if name in modules and name not in saved:
                saved[name] = modules.pop(name)
        attributes: list[tuple[types.ModuleType, str, object]] = []
        for name in sorted(overlay, key=lambda name: name.count(".")):
            if name not in saved:
                saved[name] = modules.get(name, _ABSENT)
            module = overlay[name]
            modules[name] = module  # type: ignore[assignment]
            parent_name, _, child = name.rpartition(".")
            parent = modules.get(parent_name) if parent_name else None
            if parent is not None and module is not None:
                attributes.append((parent, child, parent.__dict__.get(child, _ABSENT)))
                setattr(parent, child, module)
        return _Installed(saved, attributes, len(modules))

    def uninstall(self, overlay: Overlay, installed: _Installed) -> None:
        modules = sys.modules
        if len(modules) != installed.count:
            self._adopt(overlay, installed)
        for name, module in overlay.items():
            if name in modules and modules[name] is module:
                del modules[name]
        for parent, child, old in reversed(installed.attributes):
            if old is _ABSENT:
                parent.__dict__.pop(child, None)
            else:
                setattr(parent, child, old)
        for name, old in installed.saved.items():
            if old is _ABSENT:
                modules.pop(name, None)
            else:
                modules[name] = old  # type: ignore[assignment]
        self._seen = len(modules)  # what the process imported and shared is part of the world now
        self._world_keys.update(modules)

    def _adopt(self, overlay: Overlay, installed: _Installed) -> None:
        """Modules imported while the process ran: keep in its view those that touch the system."""
        modules = sys.modules
        world = self._world_keys
        hidden = self._hidden_set
        new = [
            (name, module)
            for name, module in list(modules.items())
            if name not in overlay and (name not in world or name in hidden) and isinstance(module, types.ModuleType)
        ]
        ids = {id(module) for module in overlay.values() if module is not None}
        names = set(overlay) | SHIM_NAMES
        fresh = {name for name, _ in new}
        kept: set[str] = set()
        changed = True
        while changed:
            changed = False
            for name, module in new:
                if name not in kept and (name in hidden or _refers(module, ids, names)):
                    # A package and its submodules stay together: a new package is kept whole (else a
                    # submodule shared with the world would be missing from the private package's
                    # attributes), and a kept submodule keeps its new parents.
                    top = name.partition(".")[0]
                    family = [other for other in fresh if other == top or other.startswith(f"{top}.")]
                    group = family if top in fresh else [name, *_new_parents(name, fresh)]
                    for member in group:
                        if member not in kept:
                            kept.add(member)
                            ids.add(id(modules[member]))
                            names.add(member)
                    changed = True
        for name, module in new:
            if name in kept:
                overlay[name] = module
                parent_name, _, child = name.rpartition(".")
                parent = modules.get(parent_name) if parent_name else None
                if parent is not None and parent_name not in kept and parent_name not in overlay:
                    # The import set the attribute on a shared package: put back the world's value.
                    old = installed.saved.get(name, _ABSENT)
                    if old is _ABSENT:
                        parent.__dict__.pop(child, None)
                    else:
                        setattr(parent, child, old)
                    installed.attributes.append((parent, child, old))


def _new_parents(name: str, fresh: set[str]) -> list[str]:
    parents = []
    parent = name.rpartition(".")[0]
    while parent and parent in fresh:
        parents.append(parent)
        parent = parent.rpartition(".")[0]
    return parents


class _Installed:
    __slots__ = ("attributes", "count", "saved")

    def __init__(self, saved: dict[str, object], attributes: list[tuple[types.ModuleType, str, object]], count: int):
        self.saved = saved
        self.attributes = attributes
        self.count = count
