"""Finding and importing a suite's Python files (step definitions, hooks, terrain.py).

Called by ``session.py`` in the parent and by ``worker.py`` in every worker, with the same
list of files so both processes register the same steps and hooks. Imports nothing from
cli or reporting, and nothing that parses features.

Lettuce imported files by bare module name in directory-listing order, so two
``steps.py`` files overwrote each other and the first ran twice. pbdd imports each file
exactly once, in sorted path order, under a name derived from its path; the current
directory's ``terrain.py`` comes first and is importable as ``terrain``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import PbddError, StepLoadError
from .registry import relative_path

PRELUDE_ENV = "PBDD_PRELUDE"
SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "venv", "env"}
_imported: dict[str, object] = {}


def install_lettuce_alias() -> None:
    """Make ``import lettuce`` (and its submodules suites use) resolve to pbdd's objects;
    ``lettuce.django`` resolves to ``parallel_bdd.django`` (see ``django/alias.py``)."""
    from . import lettuce as alias
    from .django import alias as django_alias

    sys.modules.setdefault("lettuce", alias)
    for name in ("terrain", "registry", "core", "decorators"):
        sys.modules.setdefault(f"lettuce.{name}", alias)
    django_alias.install()


def import_prelude() -> None:
    """Import the modules named in ``$PBDD_PRELUDE`` (comma-separated), before the suite.

    An integration that starts pbdd (``manage.py harvest``) prepares every process of the
    run the same way through it: workers inherit the environment whatever the start
    method, and the modules run before ``terrain.py`` and the step files (Django must be
    set up before a step file imports a model).
    """
    for name in filter(None, (part.strip() for part in os.environ.get(PRELUDE_ENV, "").split(","))):
        try:
            importlib.import_module(name)
        except PbddError:
            raise
        except Exception as error:  # the integration's own set-up failed in this process
            raise StepLoadError(
                f"${PRELUDE_ENV} module {name} failed to import: {type(error).__name__}: {error}"
            ) from None


def _python_files_under(directory: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        found.extend(Path(root, name) for name in sorted(files) if name.endswith(".py"))
    return sorted(found)


def find_step_files(suite_dirs: Iterable[Path], root_dir: str | None = None) -> list[Path]:
    """Every ``*.py`` under each suite directory, sorted, each once.

    As lettuce does, a suite directory without Python files borrows them from the nearest
    directory above it that has some, up to ``root_dir`` (``--root-dir``) and including
    it, as lettuce's ``--root-dir``. Without one, pbdd stops below the current directory
    (lettuce went up to ``/``), so it never imports a whole project. A suite directory
    outside ``root_dir`` borrows nothing.
    """
    top = Path(root_dir or os.curdir).resolve()
    seen: dict[Path, None] = {}
    for suite_dir in suite_dirs:
        directory = suite_dir.resolve()
        files = _python_files_under(directory)
        while not files and directory != top and top in directory.parents:
            directory = directory.parent
            if directory == top and root_dir is None:
                break
            files = _python_files_under(directory)
        for path in files:
            seen.setdefault(path.resolve(), None)
    return list(seen)


def terrain_file() -> Path | None:
    candidate = Path.cwd() / "terrain.py"
    return candidate.resolve() if candidate.is_file() else None


def _module_name(path: Path) -> str:
    relative = relative_path(str(path))
    stem = re.sub(r"\W", "_", relative[:-3] if relative.endswith(".py") else relative)
    return f"pbdd_suite.{stem.strip('_') or 'module'}"


def _user_traceback(error: BaseException, path: Path) -> str:
    """The traceback from the user's file on, without importlib's frames."""
    frames = traceback.extract_tb(error.__traceback__)
    keep = [
        frame
        for frame in frames
        if "importlib" not in frame.filename
        and (not frame.filename.startswith(str(Path(__file__).parent)))
    ]
    lines = traceback.format_list(keep) if keep else []
    lines += traceback.format_exception_only(type(error), error)
    return "".join(lines).rstrip()


def import_file(path: Path, module_name: str) -> None:
    key = str(path)
    if key in _imported:
        return
    directory = str(path.parent)
    if directory not in sys.path:
        # lettuce put each step file's directory on sys.path; suites import siblings that way.
        # After the project directory, though: a step file named like one of the project's
        # modules (features/first.py in a project with app first) must not shadow it.
        sys.path.insert(_after_project_directory(), directory)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StepLoadError(f"cannot import {relative_path(key)}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    _imported[key] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # a user's file may raise anything at import time
        sys.modules.pop(module_name, None)
        if isinstance(error, StepLoadError):
            raise
        raise StepLoadError(
            f"{relative_path(key)} failed to import:\n{_user_traceback(error, path)}",
            hint=_import_hint(error),
        ) from None


def _import_hint(error: BaseException) -> str:
    # Django's models need its settings and apps: a Django project's features run by pbdd
    # itself, not by harvest (named, not imported: pbdd does not need Django)
    if type(error).__name__ in ("ImproperlyConfigured", "AppRegistryNotReady"):
        return (
            "This looks like a Django project's step file: run its features from the "
            "project's directory with python manage.py harvest [PATHS]."
        )
    return "Fix the step file, then run pbdd again."


def _after_project_directory() -> int:
    cwd = os.getcwd()
    for index, entry in enumerate(sys.path):
        if os.path.abspath(entry or os.curdir) == cwd:
            return index + 1
    return 0


def put_project_on_path() -> None:
    """Put the current directory first on ``sys.path`` unless it is there already.

    lettuce left it there, and suites import their project's own code from it
    (``from myapp import app``). ``python -m`` puts it there; the ``pbdd`` console script
    puts its own bin directory there instead.
    """
    cwd = os.getcwd()
    if not any(os.path.abspath(entry or os.curdir) == cwd for entry in sys.path):
        sys.path.insert(0, cwd)


def import_suite(step_files: Sequence[Path], terrain: Path | None) -> None:
    """Import terrain.py (as ``terrain``) then every step file; StepLoadError on failure.

    The current directory goes on ``sys.path`` first (``put_project_on_path``), then the
    ``$PBDD_PRELUDE`` modules are imported (``import_prelude``).
    """
    put_project_on_path()
    install_lettuce_alias()
    import_prelude()
    if "pbdd_suite" not in sys.modules:
        package = importlib.util.module_from_spec(
            importlib.machinery.ModuleSpec("pbdd_suite", None, is_package=True)
        )
        package.__path__ = []
        sys.modules["pbdd_suite"] = package
    if terrain is not None:
        import_file(terrain, "terrain")
    for path in step_files:
        if terrain is not None and path == terrain:
            continue
        import_file(path, _module_name(path))
