"""Covers: kfp-kubernetes settings with a local meaning on the host runner: secrets and config maps as env
(names constant, from a pipeline parameter, from an upstream output), pod labels and annotations read back
through field paths (present and absent), a node selector (constant labels, and labels from a pipeline
parameter, which win as in the backend: carried to the task for runners that place tasks) and a toleration
(reported as ignored)."""

from kfp import dsl, kubernetes

PACKAGE_SUFFIX = ".yaml"  # kfp writes platform settings only into YAML


@dsl.component(base_image="python:3.11")
def secret_name() -> str:
    return "db-secret"


@dsl.component(base_image="python:3.11")
def show_env():
    import json
    import os

    names = ["USER_NAME", "PASSWORD", "TOKEN", "COLOR", "ANNOTATION", "LABEL", "ABSENT", "POD_NAME"]
    print("PROBE " + json.dumps({"tag": "env", **{name: os.environ.get(name) for name in names}}))


@dsl.pipeline(name="kubernetes-settings")
def pipeline(user_secret: str = "user-secret", selector: dict = {"pool": "cpu"}):
    name = secret_name()
    task = show_env().set_caching_options(False)
    kubernetes.use_secret_as_env(task, secret_name=user_secret, secret_key_to_env={"username": "USER_NAME"})
    kubernetes.use_secret_as_env(task, secret_name="api-secret", secret_key_to_env={"password": "PASSWORD"})
    kubernetes.use_secret_as_env(task, secret_name=name.output, secret_key_to_env={"token": "TOKEN"})
    kubernetes.use_config_map_as_env(
        task, config_map_name="settings", config_map_key_to_env={"color": "COLOR"}
    )
    kubernetes.add_pod_annotation(task, "team/owner", "alice")
    kubernetes.add_pod_label(task, "tier", "gold")
    kubernetes.use_field_path_as_env(task, "ANNOTATION", "metadata.annotations['team/owner']")
    kubernetes.use_field_path_as_env(task, "LABEL", "metadata.labels['tier']")
    kubernetes.use_field_path_as_env(task, "ABSENT", "metadata.labels['missing']")
    kubernetes.use_field_path_as_env(task, "POD_NAME", "metadata.name")
    kubernetes.add_node_selector(task, "disktype", "ssd")
    kubernetes.add_node_selector_json(task, node_selector_json=selector)
    kubernetes.add_toleration(task, key="gpu", operator="Exists", effect="NoSchedule")
