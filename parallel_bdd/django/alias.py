"""``lettuce.django`` as an import path: the same modules as ``parallel_bdd.django``.

Installed by ``parallel_bdd.django`` when it is imported and by
``discovery.install_lettuce_alias`` (every pbdd run). Imports nothing from Django, the
runner, cli or reporting: it must stay cheap enough for every run.

Why a finder and not a top-level ``lettuce`` package: pbdd must never shadow a real
``lettuce`` install. The finder for ``lettuce`` sits at the *end* of
``sys.meta_path``, so the normal path search wins whenever a ``lettuce`` distribution is
installed; only when there is none does ``import lettuce`` give pbdd's alias, and
``import lettuce.django.x`` give the module object ``parallel_bdd.django.x`` itself (one
module, one state, never a copy). No ``.pth`` file is
installed: a settings file that lists ``'lettuce.django'`` imports ``parallel_bdd.django``
first (or lists ``'parallel_bdd.django'``), since Django imports the apps before any of
pbdd's code could run.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

ALIASED_PACKAGE = "lettuce.django"


def real_name(fullname: str) -> str | None:
    """The pbdd module an aliased name stands for, or None if the name is not ours."""
    if fullname == "lettuce":
        return "parallel_bdd.lettuce"
    if fullname == ALIASED_PACKAGE or fullname.startswith(ALIASED_PACKAGE + "."):
        return "parallel_bdd." + fullname[len("lettuce.") :]
    return None


class _AliasLoader(importlib.abc.Loader):
    """Returns the already imported pbdd module instead of making a new one."""

    def __init__(self, real: str) -> None:
        self.real = real
        self._real_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.real)
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system wrote the alias's spec onto the shared module: put its own back
        if self._real_spec is not None:
            module.__spec__ = self._real_spec


class LettuceDjangoFinder(importlib.abc.MetaPathFinder):
    """Answers ``lettuce`` (from the end of ``sys.meta_path``: only when no real lettuce is
    found) and ``lettuce.django[.*]`` (from the front, but only while ``lettuce`` is pbdd's
    alias: the path finder would otherwise load a second copy of each submodule, since
    the alias package's path is ``parallel_bdd/django`` itself)."""

    def __init__(self, *, front: bool) -> None:
        self.front = front

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if self.front != fullname.startswith(ALIASED_PACKAGE):
            return None
        if self.front and sys.modules.get("lettuce") is not sys.modules.get("parallel_bdd.lettuce"):
            return None  # a real lettuce is installed: its django package is its own
        real = real_name(fullname)
        if real is None or importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(real), is_package=True)


def install() -> None:
    """Add the finders once; give pbdd's ``lettuce`` alias an (empty) package path."""
    if not any(isinstance(finder, LettuceDjangoFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, LettuceDjangoFinder(front=True))
        sys.meta_path.append(LettuceDjangoFinder(front=False))
    alias = sys.modules.get("parallel_bdd.lettuce")
    if alias is not None and not hasattr(alias, "__path__"):
        # ``import lettuce.django`` needs its parent to be a package; an empty path means
        # every submodule comes from the finder above
        alias.__path__ = []  # type: ignore[attr-defined]
