"""Which apps' ``features/`` directories ``harvest`` runs, as lettuce chose them.

Called by the ``harvest`` command in the parent. Raises ``SelectionError`` (exit 2) for an
app named in ``-a``/``-A`` that is not installed, or a PATH that does not exist.

Lettuce's rules, kept: without ``-a``, every installed app except ``django.contrib.*`` and
the harvest app itself, narrowed by ``settings.LETTUCE_APPS`` (module name prefixes) and
``LETTUCE_AVOID_APPS``; ``-a a,b`` runs exactly those apps (settings ignored); ``-A`` drops
apps in both cases. An app without a ``features`` directory has nothing to run. pbdd also
accepts an app's label where lettuce wanted its module name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings

HARVEST_APP = "parallel_bdd.django"


class SelectionError(Exception):
    """A bad ``-a``/``-A`` app name or PATH: the command turns it into exit 2."""


@dataclass(frozen=True)
class Source:
    """What harvest runs features from: an app's ``features`` directory, or a PATH."""

    name: str  # the app's name as in INSTALLED_APPS, or the PATH as given
    path: str  # the directory (relative to the current one when inside it), or the PATH


def split_names(text: str | None) -> tuple[str, ...]:
    return tuple(name.strip() for name in (text or "").split(",") if name.strip())


def _find(name: str) -> AppConfig:
    for config in apps.get_app_configs():
        if name in (config.name, config.label):
            return config
    installed = ", ".join(config.name for config in apps.get_app_configs())
    raise SelectionError(f"app {name!r} is not in INSTALLED_APPS (installed: {installed})")


def _setting(name: str) -> tuple[str, ...] | None:
    value = getattr(settings, name, None)
    return tuple(value) if isinstance(value, list | tuple) else None


def _by_default(config: AppConfig) -> bool:
    name = config.name
    if name.startswith("django.contrib") or name == HARVEST_APP:
        return False
    wanted = _setting("LETTUCE_APPS")
    if wanted is not None and not any(name.startswith(prefix) for prefix in wanted):
        return False
    avoided = _setting("LETTUCE_AVOID_APPS") or ()
    return not any(name.startswith(prefix) for prefix in avoided)


def selected_apps(only: Sequence[str], avoid: Sequence[str]) -> list[AppConfig]:
    """The apps to harvest, in INSTALLED_APPS order."""
    avoided = {_find(name).name for name in avoid}
    if only:
        chosen = {_find(name).name for name in only}
        configs = [c for c in apps.get_app_configs() if c.name in chosen]
    else:
        configs = [c for c in apps.get_app_configs() if _by_default(c)]
    return [config for config in configs if config.name not in avoided]


def feature_sources(
    paths: Sequence[str], only: Sequence[str], avoid: Sequence[str]
) -> list[Source]:
    """PATHS when given (each must exist), else each selected app's ``features`` dir."""
    if paths:
        missing = [path for path in paths if not os.path.exists(path.split(":")[0])]
        if missing:
            raise SelectionError(f"no such feature file or directory: {', '.join(missing)}")
        return [Source(path, path) for path in paths]
    found = []
    for config in selected_apps(only, avoid):
        directory = Path(config.path) / "features"
        if directory.is_dir():
            found.append(Source(config.name, _shown(directory)))
    return found


def _shown(directory: Path) -> str:
    """Relative to the current directory when inside it: pbdd's reports name files so."""
    try:
        return str(directory.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(directory)
