"""kfp-kubernetes settings (`platforms.kubernetes` of a PlatformSpec), per executor: parsed into typed values.

Three stages, each usable by any runner:

1. `load_kubernetes_settings(platform_spec)` parses and checks every executor's settings at load time
   (a bad setting is a SpecError naming its JSON path); names of secrets, config maps and PVCs that come
   from task inputs stay `NameRef`s, as the IR writes them.
2. `TaskKubernetes.build(settings, names=...)` is what the driver writes into a task's files: the same
   settings with every name resolved (the driver resolves a `NameRef` against the task's DAG, as the
   backend's `extendPodSpecPatch` does). `to_json`/`from_json` carry it across the process boundary.
3. What a runner does with it: `object_values` reads a secret's or config map's keys from the local source
   the user named (`--secret NAME=PATH`, `--config-map NAME=PATH`), `field_path_value` answers a
   downward-API field path, `task_env` gives the environment variables all of these make, and
   `volume_dir` is where the PVC named NAME lives (`<home>/volumes/NAME`). Mount paths are a runner's
   business: the host runner cannot give a process its own `/data` (see launcher/launch.py), the Docker
   runner can.

Settings that place or shape a pod on a cluster (node selectors, tolerations, affinity, image pull secrets,
security context, shared memory, init containers, ephemeral volumes) have no local meaning: they are listed
in `ignored`, so a runner can say so, and never silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

from google.protobuf import json_format

from spec import paths, sources
from spec.errors import LplError, SpecError, SpecErrors
from spec.ir import pipeline_spec_pb2
from spec.parse import join_path

KUBERNETES = "kubernetes"
InputParameterSpec: TypeAlias = pipeline_spec_pb2.TaskInputsSpec.InputParameterSpec
ObjectKind = Literal["secret", "config map"]
VolumeKind = Literal["pvc", "secret", "config map", "empty dir"]
# The option that names a local source for each kind of object.
SOURCE_OPTION: dict[str, str] = {"secret": "--secret", "config map": "--config-map"}
# Settings that only place or shape a pod on a cluster, by their IR key.
_IGNORED = {
    "nodeSelector": "node selector",
    "tolerations": "tolerations",
    "nodeAffinity": "node affinity",
    "podAffinity": "pod affinity",
    "imagePullSecret": "image pull secrets",
    "securityContext": "security context",
    "enabledSharedMemory": "shared memory",
    "initContainers": "init containers",
    "genericEphemeralVolume": "generic ephemeral volumes",
}
_PULL_POLICIES = ("Always", "Never", "IfNotPresent")


class LocalSourceError(LplError):
    """A secret or config map a task needs has no usable local source; the task fails with this message."""


# --- stage 1: the settings as the IR writes them -------------------------------------------------------


@dataclass(frozen=True)
class NameRef:
    """The name of a secret, config map or PVC: a constant or a task input the driver resolves."""

    spec: InputParameterSpec
    json_path: str

    @property
    def constant(self) -> str | None:
        """The name when it is written in the IR as a plain constant string, else None."""
        if self.spec.WhichOneof("kind") != "runtime_value":
            return None
        value = self.spec.runtime_value.constant
        return value.string_value if value.WhichOneof("kind") == "string_value" else None


@dataclass(frozen=True)
class KeyToEnv:
    key: str
    env_var: str


@dataclass(frozen=True)
class ObjectAsEnv:
    """`use_secret_as_env` / `use_config_map_as_env`: keys of one object as environment variables."""

    kind: ObjectKind
    name: NameRef
    keys: tuple[KeyToEnv, ...]
    optional: bool


@dataclass(frozen=True)
class ObjectAsVolume:
    """`use_secret_as_volume` / `use_config_map_as_volume`: one file per key under `mount_path`."""

    kind: ObjectKind
    name: NameRef
    mount_path: str
    optional: bool


@dataclass(frozen=True)
class PvcMount:
    name: NameRef
    mount_path: str
    sub_path: str = ""


@dataclass(frozen=True)
class EmptyDirMount:
    volume_name: str
    mount_path: str
    medium: str = ""
    size_limit: str = ""


@dataclass(frozen=True)
class FieldPathEnv:
    """`use_field_path_as_env`: a downward-API field of the pod as an environment variable."""

    name: str
    field_path: str


@dataclass(frozen=True)
class ExecutorSettings:
    """One executor's kfp-kubernetes settings."""

    executor_label: str
    pvc_mounts: tuple[PvcMount, ...] = ()
    objects_as_env: tuple[ObjectAsEnv, ...] = ()
    objects_as_volume: tuple[ObjectAsVolume, ...] = ()
    empty_dirs: tuple[EmptyDirMount, ...] = ()
    field_path_env: tuple[FieldPathEnv, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    image_pull_policy: str = ""
    active_deadline_seconds: int = 0
    ignored: tuple[str, ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)  # `add_node_selector` labels
    node_selector_json: NameRef | None = None  # `add_node_selector_json`: a task input holding the labels
    # `add_toleration` (a Kubernetes Toleration, as JSON) or `add_toleration_json` (a task input holding
    # one or a list); `add_node_affinity` terms ({"required": term} or {"preferred": {weight, preference}})
    # or `add_node_affinity_json` (a task input holding a NodeAffinity). Only a dsl.TaskConfig shows them.
    tolerations: tuple[dict[str, Any] | NameRef, ...] = ()
    node_affinity: tuple[dict[str, Any] | NameRef, ...] = ()

    def name_refs(self) -> list[NameRef]:
        """Every name the driver has to resolve for this executor."""
        refs = [mount.name for mount in self.pvc_mounts]
        refs += [item.name for item in self.objects_as_env]
        return refs + [item.name for item in self.objects_as_volume]


def load_kubernetes_settings(
    platform_spec: pipeline_spec_pb2.PlatformSpec | None, *, file: Path | str | None = None
) -> dict[str, ExecutorSettings]:
    """Each executor's settings by executor label; raise SpecErrors naming every bad node."""
    if platform_spec is None or KUBERNETES not in platform_spec.platforms:
        return {}
    config = platform_spec.platforms[KUBERNETES]
    base = f"platforms.{KUBERNETES}.deploymentSpec.executors"
    executors = json_format.MessageToDict(config.deployment_spec).get("executors", {})
    if not isinstance(executors, dict):
        raise SpecError(f"expected an object, got {type(executors).__name__}", json_path=base, file=file)
    settings: dict[str, ExecutorSettings] = {}
    problems: list[SpecError] = []
    for label, raw in executors.items():
        path = f"{base}[{label!r}]"
        try:
            settings[label] = _executor(label, _object(raw, path), path)
        except SpecError as exc:
            problems.append(exc.with_file(file) if file is not None else exc)
    if problems:
        raise SpecErrors(problems)
    return settings


def _executor(label: str, raw: dict[str, Any], path: str) -> ExecutorSettings:
    metadata = _object(raw.get("podMetadata", {}), join_path(path, "podMetadata"))
    selector = _object(raw.get("nodeSelector", {}), join_path(path, "nodeSelector"))
    return ExecutorSettings(
        executor_label=label,
        pvc_mounts=tuple(_pvc_mount(item, p) for item, p in _items(raw, "pvcMount", path)),
        objects_as_env=tuple(
            [_as_env("secret", item, p) for item, p in _items(raw, "secretAsEnv", path)]
            + [_as_env("config map", item, p) for item, p in _items(raw, "configMapAsEnv", path)]
        ),
        objects_as_volume=tuple(
            [_as_volume("secret", item, p) for item, p in _items(raw, "secretAsVolume", path)]
            + [_as_volume("config map", item, p) for item, p in _items(raw, "configMapAsVolume", path)]
        ),
        empty_dirs=tuple(_empty_dir(item, p) for item, p in _items(raw, "emptyDirMounts", path)),
        field_path_env=tuple(_field_path(item, p) for item, p in _items(raw, "fieldPathAsEnv", path)),
        labels=_strings(metadata.get("labels", {}), join_path(path, "podMetadata.labels")),
        annotations=_strings(metadata.get("annotations", {}), join_path(path, "podMetadata.annotations")),
        image_pull_policy=_pull_policy(raw.get("imagePullPolicy", ""), join_path(path, "imagePullPolicy")),
        active_deadline_seconds=int(raw.get("activeDeadlineSeconds", 0) or 0),
        ignored=tuple(_IGNORED[key] for key in _IGNORED if raw.get(key)),
        tolerations=tuple(_toleration(item, p) for item, p in _items(raw, "tolerations", path)),
        node_affinity=tuple(
            term for item, p in _items(raw, "nodeAffinity", path) if (term := _affinity_term(item, p))
        ),
        node_selector=_strings(selector.get("labels", {}), join_path(path, "nodeSelector.labels")),
        node_selector_json=(
            _name(
                selector,
                parameter_key="nodeSelectorJson",
                legacy_keys=(),
                path=join_path(path, "nodeSelector"),
            )
            if "nodeSelectorJson" in selector
            else None
        ),
    )


def _object(raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SpecError("expected an object", json_path=path)
    return raw


def _items(raw: dict[str, Any], key: str, path: str) -> list[tuple[dict[str, Any], str]]:
    items = raw.get(key, [])
    if not isinstance(items, list):
        raise SpecError("expected a list", json_path=join_path(path, key))
    return [
        (_object(item, f"{join_path(path, key)}[{i}]"), f"{join_path(path, key)}[{i}]")
        for i, item in enumerate(items)
    ]


def _strings(raw: Any, path: str) -> dict[str, str]:
    mapping = _object(raw, path)
    for key, value in mapping.items():
        if not isinstance(value, str):
            raise SpecError("expected a string", json_path=f"{path}[{key!r}]")
    return dict(mapping)


def _text(raw: dict[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise SpecError("expected a non-empty string", json_path=join_path(path, key))
    return value


def _name(raw: dict[str, Any], *, parameter_key: str, legacy_keys: tuple[str, ...], path: str) -> NameRef:
    """A name from its `…NameParameter` (an InputParameterSpec) or, in older files, a deprecated field."""
    if parameter_key in raw:
        spec_path = join_path(path, parameter_key)
        try:
            spec = json_format.ParseDict(_object(raw[parameter_key], spec_path), InputParameterSpec())
        except json_format.ParseError as exc:
            raise SpecError(f"not an input parameter spec: {exc}", json_path=spec_path) from exc
        if spec.WhichOneof("kind") is None:
            raise SpecError("names no value", json_path=spec_path)
        return NameRef(spec=spec, json_path=spec_path)
    for key in legacy_keys:
        if key in raw:
            return NameRef(
                spec=_legacy_spec(key, raw[key], join_path(path, key)), json_path=join_path(path, key)
            )
    raise SpecError(f"no name: expected {parameter_key!r}", json_path=path)


def _legacy_spec(key: str, value: Any, path: str) -> InputParameterSpec:
    spec = InputParameterSpec()
    if key == "taskOutputParameter":
        json_format.ParseDict({"taskOutputParameter": _object(value, path)}, spec)
    elif key == "componentInputParameter" and isinstance(value, str) and value:
        spec.component_input_parameter = value
    elif isinstance(value, str) and value:
        spec.runtime_value.constant.string_value = value
    else:
        raise SpecError("expected a non-empty string", json_path=path)
    return spec


def _pvc_mount(raw: dict[str, Any], path: str) -> PvcMount:
    name = _name(
        raw,
        parameter_key="pvcNameParameter",
        legacy_keys=("constant", "componentInputParameter", "taskOutputParameter"),
        path=path,
    )
    return PvcMount(
        name=name,
        mount_path=_mount_path(raw, path),
        sub_path=_checked(
            _text(raw, "subPath", path, required=False), paths.sub_path_problem, join_path(path, "subPath")
        ),
    )


def _mount_path(raw: dict[str, Any], path: str) -> str:
    return _checked(_text(raw, "mountPath", path), paths.mount_path_problem, join_path(path, "mountPath"))


def _checked(text: str, problem_of: Callable[[str], str | None], path: str) -> str:
    """`text` when it is empty or fits; a SpecError at `path` saying why not otherwise."""
    problem = problem_of(text) if text else None
    if problem:
        raise SpecError(f"{text!r} {problem}", json_path=path)
    return text


def _as_env(kind: ObjectKind, raw: dict[str, Any], path: str) -> ObjectAsEnv:
    prefix = "secret" if kind == "secret" else "configMap"
    key_field = "secretKey" if kind == "secret" else "configMapKey"
    keys = tuple(
        KeyToEnv(key=_text(item, key_field, p), env_var=_text(item, "envVar", p))
        for item, p in _items(raw, "keyToEnv", path)
    )
    name = _name(raw, parameter_key=f"{prefix}NameParameter", legacy_keys=(f"{prefix}Name",), path=path)
    return ObjectAsEnv(kind=kind, name=name, keys=keys, optional=bool(raw.get("optional", False)))


def _as_volume(kind: ObjectKind, raw: dict[str, Any], path: str) -> ObjectAsVolume:
    prefix = "secret" if kind == "secret" else "configMap"
    name = _name(raw, parameter_key=f"{prefix}NameParameter", legacy_keys=(f"{prefix}Name",), path=path)
    return ObjectAsVolume(
        kind=kind,
        name=name,
        mount_path=_mount_path(raw, path),
        optional=bool(raw.get("optional", False)),
    )


def _empty_dir(raw: dict[str, Any], path: str) -> EmptyDirMount:
    return EmptyDirMount(
        volume_name=_text(raw, "volumeName", path),
        mount_path=_mount_path(raw, path),
        medium=_text(raw, "medium", path, required=False),
        size_limit=_text(raw, "sizeLimit", path, required=False),
    )


def _field_path(raw: dict[str, Any], path: str) -> FieldPathEnv:
    return FieldPathEnv(name=_text(raw, "name", path), field_path=_text(raw, "fieldPath", path))


def _toleration(raw: dict[str, Any], path: str) -> dict[str, Any] | NameRef:
    """A Kubernetes Toleration as its JSON (empty fields left out, as Go writes it), or the task input
    that holds one or a list."""
    if "tolerationJson" in raw:
        return _name(raw, parameter_key="tolerationJson", legacy_keys=(), path=path)
    toleration: dict[str, Any] = {
        key: _text(raw, key, path, required=False)
        for key in ("key", "operator", "value", "effect")
        if raw.get(key)
    }
    if "tolerationSeconds" in raw:  # an int64: a string in the IR's JSON
        try:
            toleration["tolerationSeconds"] = int(raw["tolerationSeconds"])
        except (TypeError, ValueError) as exc:
            where = join_path(path, "tolerationSeconds")
            raise SpecError("expected a whole number", json_path=where) from exc
    return toleration


def _affinity_term(raw: dict[str, Any], path: str) -> dict[str, Any] | NameRef | None:
    """A node affinity term as Kubernetes JSON, required or preferred (with a weight); the task input
    holding a NodeAffinity; None for a term with nothing in it (the backend skips it)."""
    if "nodeAffinityJson" in raw:
        return _name(raw, parameter_key="nodeAffinityJson", legacy_keys=(), path=path)
    term: dict[str, Any] = {}
    for key in ("matchExpressions", "matchFields"):
        requirements = [
            {"key": _text(item, "key", p), "operator": _text(item, "operator", p)}
            | ({"values": _string_list(item["values"], join_path(p, "values"))} if item.get("values") else {})
            for item, p in _items(raw, key, path)
        ]
        if requirements:
            term[key] = requirements
    if not term:
        return None
    if "weight" in raw:
        weight = raw["weight"]  # an int32, read back from the platform spec's Struct as a float
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not float(weight).is_integer():
            raise SpecError("expected a whole number", json_path=join_path(path, "weight"))
        return {"preferred": {"weight": int(weight), "preference": term}}
    return {"required": term}


def _string_list(raw: Any, path: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise SpecError("expected a list of strings", json_path=path)
    return list(raw)


def _pull_policy(value: Any, path: str) -> str:
    if value and value not in _PULL_POLICIES:
        raise SpecError(
            f"unsupported value {value!r}: expected one of {', '.join(_PULL_POLICIES)}", json_path=path
        )
    return str(value)


# --- stage 2: one task's settings, names resolved (the task file) --------------------------------------


@dataclass(frozen=True)
class EnvFromObject:
    env_var: str
    kind: ObjectKind
    object_name: str
    key: str
    optional: bool


@dataclass(frozen=True)
class VolumeMount:
    """A volume at `mount_path`: a PVC, a secret or config map (one file per key), or an empty dir."""

    kind: VolumeKind
    name: str
    mount_path: str
    sub_path: str = ""
    optional: bool = False


@dataclass(frozen=True)
class TaskKubernetes:
    """One task's kfp-kubernetes settings with every name resolved: what a runner applies."""

    env_from_objects: tuple[EnvFromObject, ...] = ()
    field_path_env: tuple[FieldPathEnv, ...] = ()
    volumes: tuple[VolumeMount, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    image_pull_policy: str = ""
    active_deadline_seconds: int = 0
    ignored: tuple[str, ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)  # no meaning on the host; a Ray runner's
    tolerations: tuple[dict[str, Any], ...] = ()  # Kubernetes JSON; only a dsl.TaskConfig shows them
    node_affinity: dict[str, Any] = field(default_factory=dict)  # a Kubernetes NodeAffinity, likewise

    @classmethod
    def build(
        cls,
        settings: ExecutorSettings,
        *,
        names: dict[str, str | None],
        node_selector: dict[str, str] | None = None,
        tolerations: tuple[dict[str, Any], ...] = (),
        node_affinity: dict[str, Any] | None = None,
    ) -> TaskKubernetes:
        """`names` maps each NameRef's json_path to its resolved name; None (a null optional input) drops
        the setting, as the backend skips it. `node_selector` is the resolved `node_selector_json`, when
        the settings have one (it replaces the constant labels, as in the backend); `tolerations` and
        `node_affinity` are the settings' own with their task inputs resolved."""
        env = [
            EnvFromObject(
                env_var=key.env_var,
                kind=source.kind,
                object_name=resolved,
                key=key.key,
                optional=source.optional,
            )
            for source in settings.objects_as_env
            if (resolved := names[source.name.json_path]) is not None
            for key in source.keys
        ]
        volumes = [
            VolumeMount("pvc", resolved, mount.mount_path, mount.sub_path)
            for mount in settings.pvc_mounts
            if (resolved := names[mount.name.json_path]) is not None
        ]
        volumes += [
            VolumeMount(source.kind, resolved, source.mount_path, optional=source.optional)
            for source in settings.objects_as_volume
            if (resolved := names[source.name.json_path]) is not None
        ]
        volumes += [VolumeMount("empty dir", d.volume_name, d.mount_path) for d in settings.empty_dirs]
        return cls(
            env_from_objects=tuple(env),
            field_path_env=settings.field_path_env,
            volumes=tuple(volumes),
            labels=dict(settings.labels),
            annotations=dict(settings.annotations),
            image_pull_policy=settings.image_pull_policy,
            active_deadline_seconds=settings.active_deadline_seconds,
            ignored=settings.ignored,
            node_selector=dict(node_selector if node_selector is not None else settings.node_selector),
            tolerations=tolerations,
            node_affinity=dict(node_affinity or {}),
        )

    def objects(self) -> set[tuple[ObjectKind, str]]:
        """The secrets and config maps this task reads, as (kind, name)."""
        found: set[tuple[ObjectKind, str]] = {(item.kind, item.object_name) for item in self.env_from_objects}
        for volume in self.volumes:
            if volume.kind == "secret" or volume.kind == "config map":
                found.add((volume.kind, volume.name))
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "env_from_objects": [vars(item) for item in self.env_from_objects],
            "field_path_env": [vars(item) for item in self.field_path_env],
            "volumes": [vars(item) for item in self.volumes],
            "labels": self.labels,
            "annotations": self.annotations,
            "image_pull_policy": self.image_pull_policy,
            "active_deadline_seconds": self.active_deadline_seconds,
            "ignored": list(self.ignored),
            "node_selector": self.node_selector,
            "tolerations": list(self.tolerations),
            "node_affinity": self.node_affinity,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskKubernetes:
        return cls(
            env_from_objects=tuple(EnvFromObject(**item) for item in data.get("env_from_objects", [])),
            field_path_env=tuple(FieldPathEnv(**item) for item in data.get("field_path_env", [])),
            volumes=tuple(VolumeMount(**item) for item in data.get("volumes", [])),
            labels=dict(data.get("labels", {})),
            annotations=dict(data.get("annotations", {})),
            image_pull_policy=str(data.get("image_pull_policy", "")),
            active_deadline_seconds=int(data.get("active_deadline_seconds", 0)),
            ignored=tuple(data.get("ignored", [])),
            node_selector=dict(data.get("node_selector", {})),
            tolerations=tuple(data.get("tolerations", [])),
            node_affinity=dict(data.get("node_affinity", {})),
        )


# --- stage 3: local meaning, shared by the runners ------------------------------------------------------


@dataclass(frozen=True)
class PodFacts:
    """What the downward API would tell about the pod a task runs in, locally."""

    name: str
    namespace: str = "local"
    uid: str = ""
    node_name: str = ""
    service_account: str = "default"
    host_ip: str = "127.0.0.1"
    pod_ip: str = "127.0.0.1"


_METADATA_KEY = re.compile(r"^metadata\.(labels|annotations)\['([^']*)'\]$")


def field_path_value(field_path: str, *, settings: TaskKubernetes, pod: PodFacts) -> str:
    """A downward-API field path's value; a label or annotation the pod lacks is "" as on a cluster."""
    match = _METADATA_KEY.match(field_path)
    if match is not None:
        source = settings.labels if match.group(1) == "labels" else settings.annotations
        return source.get(match.group(2), "")
    simple = {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "metadata.uid": pod.uid,
        "spec.nodeName": pod.node_name,
        "spec.serviceAccountName": pod.service_account,
        "status.hostIP": pod.host_ip,
        "status.podIP": pod.pod_ip,
    }
    if field_path not in simple:
        raise LocalSourceError(
            f"field path {field_path!r} has no local value (known: {', '.join(simple)}, "
            "metadata.labels['KEY'], metadata.annotations['KEY'])"
        )
    return simple[field_path]


def object_values(
    kind: ObjectKind, name: str, *, sources: dict[str, str], optional: bool = False
) -> dict[str, str]:
    """The keys of the secret or config map `name`, read from its local source: a directory holding one
    file per key (as Kubernetes mounts it) or an env file of KEY=VALUE lines. A missing optional object
    is empty; a missing required one fails the task with the option that would give it."""
    option = SOURCE_OPTION[kind]
    if name not in sources:
        if optional:
            return {}
        raise LocalSourceError(
            f"{kind} {name!r} has no local source: pass {option} {name}=PATH "
            "(a directory with one file per key, or an env file of KEY=VALUE lines)"
        )
    path = Path(sources[name])
    try:
        if path.is_dir():
            return {
                item.name: _read_source(item)
                for item in sorted(path.iterdir())
                if item.is_file() and not item.name.startswith(".")
            }
        return _env_file(_read_source(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise LocalSourceError(f"{kind} {name!r}: cannot read {option} source {str(path)!r}: {exc}") from exc


def _read_source(path: Path) -> str:
    return sources.read_bounded(path, limit=sources.MAX_SOURCE_BYTES).decode()


def _env_file(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip().removeprefix("export ").strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def task_env(
    settings: TaskKubernetes, *, sources: dict[str, dict[str, str]], pod: PodFacts
) -> dict[str, str]:
    """The environment variables a task's settings make: keys of secrets and config maps, field paths.

    `sources` maps "secret" and "config map" to {object name: local source path}."""
    env: dict[str, str] = {}
    cache: dict[tuple[str, str], dict[str, str]] = {}
    for item in settings.env_from_objects:
        cache_key = (item.kind, item.object_name)
        if cache_key not in cache:
            cache[cache_key] = object_values(
                item.kind, item.object_name, sources=sources.get(item.kind, {}), optional=item.optional
            )
        values = cache[cache_key]
        if item.key in values:
            env[item.env_var] = values[item.key]
        elif not item.optional:
            raise LocalSourceError(
                f"{item.kind} {item.object_name!r} has no key {item.key!r} "
                f"(its {SOURCE_OPTION[item.kind]} source has: {', '.join(sorted(values)) or 'no keys'})"
            )
    for entry in settings.field_path_env:
        env[entry.name] = field_path_value(entry.field_path, settings=settings, pod=pod)
    return env


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def volume_dir(home: Path, name: str) -> Path:
    """Where the PVC `name` lives on this machine: `<home>/volumes/<name>`, shared by tasks and runs."""
    if not _SAFE_NAME.match(name) or len(name) > 253:
        raise LocalSourceError(f"PVC name {name!r} is not a valid volume name")
    return paths.contained(home / "volumes", name, what="PVC")


def pvc_source(home: Path, name: str, sub_path: str) -> Path:
    """The host directory a PVC mount binds: its volume, or the sub-path inside it (never outside)."""
    volume = volume_dir(home, name)
    return paths.contained(volume, sub_path, what=f"sub-path of PVC {name!r}") if sub_path else volume
