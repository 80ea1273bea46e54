"""Make local-path artifact URIs readable as `Artifact.path` for executors of kfp before 2.5."""

# kfp before 2.5 maps only gs://, s3:// and minio:// URIs to paths; for any other URI `Artifact.path` is
# None, and its executor fails on the first output artifact. Our URIs are absolute local paths, so the
# environment of such a component gets this very file copied into its site-packages, and a .pth file that
# activates it at interpreter start-up. Activation costs no kfp import: a meta-path finder waits for the
# module that defines `Artifact` and patches it right after it runs. Setting `Artifact.path` needs no
# patch: every kfp version stores a path outside /gcs/, /s3/ and /minio/ as the URI itself.
#
# This module is imported at start-up of every process in such an environment, so it imports nothing that
# the interpreter has not already loaded by then (no typing, no pathlib, no re).

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing itself is not loaded at start-up; mypy reads this name as True
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from pathlib import Path
    from types import ModuleType
    from typing import Any

SHIM_MODULE = "_lpl_legacy_paths"
SHIM_PTH = "_lpl_legacy_paths.pth"
FIRST_VERSION_WITH_LOCAL_PATHS = (2, 5)

# The module that defines `Artifact`, by kfp version.
_ARTIFACT_MODULES = frozenset(
    {
        "kfp.dsl.types.artifact_types",  # kfp 2.1 to 2.4
        "kfp.components.types.artifact_types",  # kfp 2.0
        "kfp.v2.components.types.artifact_types",  # kfp 1.8, v2-compatible components
    }
)


def needs_local_path_shim(kfp_version: str) -> bool:
    """True when the executor of `kfp_version` returns None as the path of a local-path URI.

    A version we cannot read (a URL, a branch) gets the shim: it changes nothing where kfp maps local paths.
    """
    release: list[int] = []
    for part in kfp_version.strip().lstrip("v").split(".")[:2]:
        digits = part[: len(part) - len(part.lstrip("0123456789"))]
        if not digits:
            break
        release.append(int(digits))
    if not release:
        return True
    return tuple(release) < FIRST_VERSION_WITH_LOCAL_PATHS


def install_local_path_shim(site_packages: Path) -> None:
    """Copy this module into `site_packages` with a .pth file that activates it; idempotent."""
    import py_compile  # here: nothing on the start-up path of the environment may pay for it

    module_path = site_packages / f"{SHIM_MODULE}.py"
    with open(__file__, encoding="utf-8") as source:
        if _write_if_changed(module_path, source.read()):
            # Compiled now, as environments may run with PYTHONDONTWRITEBYTECODE. Checked against the
            # source's hash, not its mtime, which a rewrite within the same second would not change.
            mode = py_compile.PycInvalidationMode.CHECKED_HASH
            py_compile.compile(str(module_path), doraise=True, invalidation_mode=mode)
    _write_if_changed(site_packages / SHIM_PTH, f"import {SHIM_MODULE}; {SHIM_MODULE}.activate()\n")


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    # Write then rename: a process starting in this environment meanwhile reads the old file or the new.
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return True


def activate() -> None:
    """Patch `Artifact` when kfp imports it, in this process; called by the .pth file at start-up."""
    if not any(isinstance(finder, _ArtifactModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ArtifactModuleFinder())


def patch_artifact_class(artifact_class: type) -> None:
    """Make `artifact_class().path` return the URI itself when it is an absolute local path."""
    original_get_path = artifact_class._get_path  # type: ignore[attr-defined]  # kfp's private hook

    def _get_path(self: Any) -> str | None:
        path: str | None = original_get_path(self)
        if path is None and self.uri.startswith("/"):
            return str(self.uri)
        return path

    artifact_class._get_path = _get_path  # type: ignore[attr-defined]


class _ArtifactModuleFinder:
    """A meta-path finder that hands out kfp's artifact module with a loader that patches it."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _ARTIFACT_MODULES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)  # type: ignore[assignment]  # duck-typed loader
                return spec
        return None


class _PatchingLoader:
    """Runs the real loader, then patches `Artifact`; anything else is the real loader's business."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        patch_artifact_class(module.Artifact)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
