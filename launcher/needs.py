"""What a failed component needed that this machine cannot give, read from its log: the internet (a host
it could not resolve or reach) or a Kubernetes cluster (it looked for a kube config or in-cluster credentials
and this machine has neither). The answer leads the task's error line; None when the log shows neither.

Only a component's own failure is diagnosed here, after the fact: nothing is refused in advance, since the
same code may well run where the host or the cluster is reachable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

# Python's, urllib3's, requests' and curl's words for "that host cannot be resolved or reached".
_UNREACHABLE = re.compile(
    r"Name or service not known|Temporary failure in name resolution|getaddrinfo failed|"
    r"nodename nor servname provided|Could not resolve host|Failed to resolve|Network is unreachable|"
    r"Failed to establish a new connection|No route to host|Max retries exceeded with url"
)
_HOST = re.compile(r"https?://([A-Za-z0-9.-]+)|host='([A-Za-z0-9.-]+)'|resolve host:? '?([A-Za-z0-9.-]+)")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0"})
# The Kubernetes Python client's and kubectl's words for "no cluster configured".
_KUBE_CONFIG = re.compile(
    r"kube[-_]config|load_incluster_config|KUBERNETES_SERVICE_HOST|Service host/port is not set|"
    r"/var/run/secrets/kubernetes\.io/serviceaccount"
)


def diagnose(log_text: str, *, environ: Mapping[str, str] | None = None) -> str | None:
    """`needs the internet (…)` or `needs a Kubernetes cluster (…)`, when the log shows that is why."""
    lines = log_text.splitlines()
    failed = [line for line in lines if _UNREACHABLE.search(line)]
    if failed:
        # The host is on the failing line (requests, urllib3, curl) or, for a bare socket error, in a URL
        # elsewhere in the log (the traceback's source line).
        hosts = _hosts(failed) or _hosts(lines)
        what = f"could not reach {', '.join(hosts)}" if hosts else "a host could not be resolved or reached"
        return f"needs the internet: {what}"
    if any(_KUBE_CONFIG.search(line) for line in lines) and not _has_cluster(environ or os.environ):
        return (
            "needs a Kubernetes cluster: it looked for a kube config or in-cluster credentials, and this "
            "machine has none ($KUBECONFIG, ~/.kube/config, a service account)"
        )
    return None


def _hosts(lines: list[str]) -> list[str]:
    hosts: list[str] = []
    for line in lines:
        for match in _HOST.finditer(line):
            host = next(group for group in match.groups() if group)
            if host not in hosts and host not in _LOCAL_HOSTS:
                hosts.append(host)
    return hosts[:3]


def _has_cluster(environ: Mapping[str, str]) -> bool:
    if environ.get("KUBERNETES_SERVICE_HOST"):
        return True
    config = environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    return any(Path(part).is_file() for part in config.split(os.pathsep) if part)
