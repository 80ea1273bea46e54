"""The Docker runner's package-index forwarding: what pip in an image needs from the host's configuration."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from launcher.runners.docker_guard import reap_orphans
from launcher.runners.docker_images import Progress, install_script, package_index_settings, python_image
from spec.command import PythonPlan
from tests.e2e.docker_support import PYTHON_IMAGE

INSTALLS_LABEL = "io.local-pipelines.installs"


def test_pip_settings_proxies_ca_bundle_and_local_indexes_are_forwarded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "pypi"
    (index / "simple").mkdir(parents=True)
    (index / "files").mkdir()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nextra-index-url = file://{index}/simple\n")
    for name in list(__import__("os").environ):
        if name.startswith("PIP_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    environment, mounts = package_index_settings(scratch)

    assert environment["PIP_FIND_LINKS"] == str(wheels)
    assert environment["HTTPS_PROXY"] == "http://proxy.example:3128"
    assert environment["PIP_CERT"] == str(ca)
    merged = Path(environment["PIP_CONFIG_FILE"])
    assert merged.parent == scratch and f"file://{index}/simple" in merged.read_text()
    sources = {mount["Source"] for mount in mounts}
    # The index's root (its pages link to ../../files), the find-links dir, the CA bundle, the merged config.
    assert {str(index), str(wheels), str(ca), str(merged)} <= sources
    assert all(mount["ReadOnly"] and mount["Source"] == mount["Target"] for mount in mounts)


def test_the_install_script_runs_each_preamble_line_with_pip_in_the_image() -> None:
    plan = PythonPlan(
        installs=(("kfp==2.17.3", "--no-deps"), ("numpy", "pandas<3")), program=("python3", "-m", "x")
    )
    script = install_script(plan)
    assert "python3 -m ensurepip" in script  # the SDK's own guard comes first
    assert "pip install --quiet --no-warn-script-location kfp==2.17.3 --no-deps && " in script
    assert script.rstrip().endswith("pip install --quiet --no-warn-script-location numpy 'pandas<3'")


def test_a_prepared_image_keeps_none_of_the_hosts_settings_nor_the_launchers_labels(
    docker_client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = f"PASSWORD{uuid.uuid4().hex}"
    monkeypatch.setenv("http_proxy", f"http://user:{secret}@proxy.invalid:3128")
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "7")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the build's lock file
    # An install pip answers without an index: the image is really built and committed.
    plan = PythonPlan(installs=(("--no-index", "pip"), ("--no-index", "pip", "--quiet")), program=())
    base = docker_client.images.get(PYTHON_IMAGE)
    with open(tmp_path / "log", "wb") as log:
        tag = python_image(docker_client, base, plan, progress=Progress(log=log, label="t"))
    image = docker_client.images.get(tag)
    try:
        config = image.attrs["Config"]
        fields = ("Env", "Entrypoint", "Cmd", "User", "WorkingDir")  # as the base image has them
        base_config = base.attrs["Config"]
        assert {f: config.get(f) or None for f in fields} == {f: base_config.get(f) or None for f in fields}
        assert secret not in json.dumps(image.attrs)  # nor in the build container's configuration it keeps
        assert {k: v for k, v in (config["Labels"] or {}).items() if v and k != INSTALLS_LABEL} == {}
        # A container a user starts from it is no launcher's orphan: the next attempt's reaper leaves it.
        user_container = docker_client.containers.create(tag, command=["true"])
        try:
            assert user_container.id not in reap_orphans(docker_client)
            user_container.reload()
        finally:
            user_container.remove(force=True)
    finally:
        docker_client.images.remove(tag, force=True)
