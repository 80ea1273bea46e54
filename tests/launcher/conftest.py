"""Fixtures of the launcher tests: the Docker daemon with the test images (tests/e2e/docker_support.py)."""

from tests.e2e.docker_support import docker_client  # noqa: F401 (a fixture of the Docker tests)
