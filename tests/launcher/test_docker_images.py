"""The Docker runner's package-index forwarding: what pip in an image needs from the host's configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.runners.docker_images import install_script, package_index_settings
from spec.command import PythonPlan


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
