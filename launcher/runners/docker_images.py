"""Images for the Docker runner: a task's image (used as it is when local, pulled when missing), and for a
lightweight Python component its image with the compiled pip preamble already run, committed once per
(image, install lines) as `lpl-env:<key>`, as the host runner caches a virtual environment.

The install runs in a container on the host network with the user's package-index settings: the pip
configuration files (merged, as pip merges them), the `PIP_*` and proxy variables (in a file of this user's
that the install sources, never in the container's environment, which a commit would keep), the CA bundle,
and the local directories those settings name (find-links, file:// indexes), all mounted read-only at their
own paths. None of it is committed into the image: mounts never are, the image keeps its own environment,
and the launcher's labels are blanked in it.
"""

from __future__ import annotations

import configparser
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from launcher.runners.base import Progress
from launcher.runners.docker_guard import launcher_labels
from spec.command import PythonPlan, environment_root
from spec.errors import EnvironmentBuildError, RunnerError

ENV_REPOSITORY = "lpl-env"
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "all_proxy")
_CA_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")
_SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
# The SDK's own guard (kfp/dsl/component_factory.py), then one pip line per install line of the preamble.
_ENSURE_PIP = (
    'if ! [ -x "$(command -v pip)" ]; then\n'
    "    python3 -m ensurepip || python3 -m ensurepip --user || apt-get install python3-pip\n"
    "fi\n"
)


def ensure_image(client: Any, image: str, *, pull_policy: str, progress: Progress) -> Any:
    """The image object for `image`: local as it is, else pulled (`Always`: pulled anyway when possible)."""
    import docker.errors

    local = _local_image(client, image)
    if local is not None and pull_policy != "Always":
        return local
    if pull_policy == "Never":
        raise RunnerError(
            f"image {image!r} is not on this machine and its pull policy is Never; {_how_to_provide(image)}"
        )
    try:
        _pull(client, image, progress=progress)
    except docker.errors.DockerException as exc:
        if local is not None:
            progress.line(f"cannot pull {image} ({_reason(exc)}); using the local image")
            return local
        raise RunnerError(
            f"image {image!r} is not on this machine and cannot be pulled ({_reason(exc)}); "
            f"{_how_to_provide(image)}"
        ) from exc
    return client.images.get(image)


def _local_image(client: Any, image: str) -> Any:
    import docker.errors

    try:
        return client.images.get(image)
    except docker.errors.ImageNotFound:
        return None


def _how_to_provide(image: str) -> str:
    return (
        f"provide it locally with `docker build -t {image} DIR`, `docker import ROOTFS.tar {image}` "
        f"or `docker load -i IMAGE.tar`, or make the registry reachable"
    )


def _reason(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    text = str(explanation or exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _pull(client: Any, image: str, *, progress: Progress) -> None:
    repository, tag = _split_tag(image)
    progress.line(f"pulling image {image}")
    shown: dict[str, str] = {}
    for event in client.api.pull(repository, tag=tag, stream=True, decode=True):
        if "error" in event:
            import docker.errors

            raise docker.errors.APIError(str(event["error"]))
        status = str(event.get("status", ""))
        layer = str(event.get("id", ""))
        if status and shown.get(layer) != status:  # one line per layer and state, not per byte
            shown[layer] = status
            progress.line(f"{layer + ': ' if layer else ''}{status}")


def _split_tag(image: str) -> tuple[str, str | None]:
    if "@" in image:
        return image, None
    name, _, tag = image.rpartition(":")
    if name and "/" not in tag:
        return name, tag
    return image, "latest"


# --- lightweight Python components: the preamble run once per (image, install lines) -----------------


def python_image(client: Any, base: Any, plan: PythonPlan, *, progress: Progress) -> str:
    """The tag of `base` with `plan`'s install lines run in it, built under a lock the first time."""
    # "clean": images committed before their configuration was kept clean (host settings, launcher labels
    # in them) are never reused; `docker image prune` or `docker rmi lpl-env:…` removes them.
    key = hashlib.sha256(json.dumps([base.id, plan.installs, "clean"]).encode()).hexdigest()[:24]
    tag = f"{ENV_REPOSITORY}:{key}"
    if _local_image(client, tag) is not None:
        return tag
    lock_dir = environment_root()
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"docker-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _local_image(client, tag) is None:
            progress.line(f"installing the component's packages into {tag} (once per image and packages)")
            _build(client, base, plan, tag=tag, progress=progress)
    return tag


def install_script(plan: PythonPlan) -> str:
    lines = [
        "PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location "
        + shlex.join(install)
        for install in plan.installs
    ]
    return _ENSURE_PIP + " && ".join(lines) + "\n"


def _build(client: Any, base: Any, plan: PythonPlan, *, tag: str, progress: Progress) -> None:
    import docker.types

    with tempfile.TemporaryDirectory(prefix="lpl-pip-") as scratch:
        environment, mounts = package_index_settings(Path(scratch))
        settings = _settings_file(Path(scratch), environment)
        mounts.append(docker.types.Mount(str(settings), str(settings), type="bind", read_only=True))
        # The host's settings (proxy credentials, pip's) reach pip through a mounted file, never the
        # container's environment: Docker's commit keeps that environment in the image for good.
        container = client.containers.create(
            base.id,
            **_install_process(base, f". {shlex.quote(str(settings))} && {install_script(plan)}"),
            environment={},
            mounts=mounts,  # not `volumes=`: those become image VOLUMEs in the commit
            network_mode="host",
            labels=launcher_labels(),
        )
        try:
            container.start()
            output = _drain(container.logs(stream=True, follow=True), progress=progress)
            code = int(container.wait().get("StatusCode", -1))
            if code != 0:
                raise EnvironmentBuildError(
                    f"installing the component's packages in {base.tags[0] if base.tags else base.id} "
                    f"failed (exit {code}): {output[-1] if output else 'no output'}"
                )
            config = base.attrs.get("Config") or {}
            container.commit(
                repository=tag.split(":")[0],
                tag=tag.split(":")[1],
                conf={
                    "Env": config.get("Env"),
                    "Entrypoint": config.get("Entrypoint"),
                    "Cmd": config.get("Cmd"),
                    "WorkingDir": config.get("WorkingDir") or "",
                    "User": config.get("User") or "",
                    # Commit adds the container's labels to these unless named: the launcher's are blanked,
                    # so a container a user starts from the image is never taken for a launcher's orphan.
                    "Labels": {key: "" for key in launcher_labels()}
                    | {"io.local-pipelines.installs": json.dumps(plan.installs)},
                },
            )
        finally:
            with contextlib.suppress(Exception):
                container.remove(force=True)


_SHELL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _install_process(base: Any, script: str) -> dict[str, Any]:
    """How the install container runs `script` as root, changing no field a commit would keep.

    Docker's commit fills every field left empty in its configuration from the container's: so the script
    takes the place of an entrypoint or a user only where the image has its own to restore."""
    config = base.attrs.get("Config") or {}
    process: dict[str, Any] = {"command": ["sh", "-c", script]}
    if config.get("Entrypoint"):
        process = {"entrypoint": ["sh", "-c", script], "command": []}
    if config.get("User"):
        process["user"] = "0:0"
    return process


def _settings_file(scratch: Path, environment: dict[str, str]) -> Path:
    """`export NAME=VALUE` lines for `sh` to source, readable by this user only."""
    path = scratch / "settings.sh"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.writelines(
            f"export {name}={shlex.quote(value)}\n"
            for name, value in sorted(environment.items())
            if _SHELL_NAME.fullmatch(name)  # a name `sh` could not export is no setting pip reads
        )
    return path


def _drain(chunks: Iterator[bytes], *, progress: Progress) -> list[str]:
    """The install's output into the task log (not the console: it is pip's business), as lines."""
    text = b"".join(chunks).decode(errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines:
        progress.log.write(f"{line}\n".encode())
    return lines


def package_index_settings(scratch: Path) -> tuple[dict[str, str], list[Any]]:
    """The variables and read-only mounts that give pip in a container the host's package-index setup."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name.startswith("PIP_") or name.lower() in _PROXY_VARIABLES
    }
    config = _merged_pip_config()
    paths: set[str] = set()
    if config.sections():
        config_file = scratch / "pip.conf"
        with open(config_file, "w") as handle:
            config.write(handle)
        environment["PIP_CONFIG_FILE"] = str(config_file)
        paths.add(str(config_file))
        for section in config.sections():
            for value in config[section].values():
                paths |= _local_paths(value)
    for value in environment.values():
        paths |= _local_paths(value)
    ca_bundle = next((os.environ[name] for name in _CA_VARIABLES if os.environ.get(name)), _SYSTEM_CA)
    if Path(ca_bundle).is_file():
        paths.add(ca_bundle)
        environment.setdefault("PIP_CERT", ca_bundle)
    import docker.types

    mounts = [docker.types.Mount(path, path, type="bind", read_only=True) for path in sorted(paths)]
    return environment, mounts


def _merged_pip_config() -> configparser.ConfigParser:
    """The host's pip configuration files, merged in pip's order (later files win)."""
    home = Path.home()
    files = [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        home / ".pip" / "pip.conf",
        Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    config = configparser.ConfigParser(interpolation=None)
    with contextlib.suppress(configparser.Error):
        config.read([str(path) for path in files if path.is_file()])
    return config


def _local_paths(value: str) -> set[str]:
    """Existing absolute local paths named in a pip setting (`/opt/wheels`, `file:///opt/pypi/simple`)."""
    found = set()
    for token in value.split():
        path = os.path.normpath(token.removeprefix("file://"))
        if token.startswith("file://") and os.path.basename(path) == "simple":
            # A local index's pages link to the files beside it (`../../files/x.whl`): mount its root.
            path = os.path.dirname(path)
        if path.startswith("/") and path != "/" and Path(path).exists():
            found.add(path)
    return found
