"""A run's DAG as nested boxes: built from the spec and the executions, laid out in layers, drawn as SVG."""

from __future__ import annotations

import graphlib
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format

from ledger.model import RUNNING, Execution, RunView, execution_times
from spec.errors import LplError
from spec.ir import pipeline_spec_pb2
from spec.load import load_deployment_config
from spec.outline import DAG, LOOP, OutlineTask, outline

LEAF_WIDTH, LEAF_HEIGHT = 160, 44
GAP_X, GAP_Y = 18, 34
PAD, HEADER = 10, 22
MAX_ITERATIONS_DRAWN = 12
ITERATIONS_PER_ROW = 4
_LABEL_CHARS = 21
_CHAR_WIDTH = 6.6  # of a heading's 11.5px bold text, on average
MAX_HEADING_WIDTH = 270
_INPUT_REF = re.compile(r"inputs\.parameter_values\[['\"]([^'\"]+)['\"]\]")


@dataclass
class Node:
    """One task of a DAG (a leaf) or a group: a sub-DAG, a loop, or one iteration of a loop."""

    key: str
    label: str
    kind: str  # task | dag | loop | iteration | more
    state: str | None = None  # None: never recorded in this run
    anchor: str | None = None  # the id of the task's section in the report
    note: str = ""
    title: str = ""
    started: float | None = None  # a running task's start, for a live page to count its duration up
    deps: list[str] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    x: float = 0
    y: float = 0
    width: float = LEAF_WIDTH
    height: float = LEAF_HEIGHT


@dataclass(frozen=True)
class RunIndex:
    """The run's executions by where they sit: (parent DAG, task key) and (loop, iteration)."""

    tasks: dict[tuple[int, str], Execution]
    iterations: dict[int, dict[int, Execution]]
    durations: dict[int, float | None]

    @classmethod
    def of(cls, view: RunView, durations: dict[int, float | None]) -> RunIndex:
        tasks: dict[tuple[int, str], Execution] = {}
        iterations: dict[int, dict[int, Execution]] = {}
        for execution in sorted(view.executions.values(), key=lambda e: e.id):  # the newest wins
            parent = execution.parent_dag_id
            if parent is None:
                continue
            if execution.iteration_index is not None:
                iterations.setdefault(parent, {})[execution.iteration_index] = execution
            else:
                tasks[(parent, execution.task_name)] = execution
        return cls(tasks=tasks, iterations=iterations, durations=durations)


def build_tree(pipeline_spec: dict[str, Any], index: RunIndex, *, root_id: int | None) -> Node:
    """The root DAG with every task of the spec (its `spec.outline`), each matched to the execution that
    ran it, if any. A spec the store holds but that no longer parses is drawn as its root alone."""
    name = str(pipeline_spec.get("pipelineInfo", {}).get("name", "pipeline"))
    root = Node(key="root", label=name, kind="dag")
    try:
        spec = pipeline_spec_pb2.PipelineSpec()
        json_format.ParseDict(pipeline_spec, spec, ignore_unknown_fields=True)
        tasks = outline(spec, load_deployment_config(spec))
    except (json_format.ParseError, LplError):
        return root
    root.children = _dag_children(tasks, index, parent_id=root_id)
    return root


def _dag_children(tasks: tuple[OutlineTask, ...], index: RunIndex, *, parent_id: int | None) -> list[Node]:
    nodes = []
    for task in tasks:
        execution = index.tasks.get((parent_id, task.key)) if parent_id is not None else None
        node = _task_node(task, execution, index)
        node.deps = sorted(task.upstream)
        if task.kind == LOOP:
            node.kind = "loop"
            node.children = _iterations(task.body, execution, index)
            count = execution.iteration_count if execution else None
            node.note = f"loop · {count} iterations" if count is not None else "loop"
        elif task.kind == DAG:
            node.kind = "dag"
            node.children = _dag_children(task.body, index, parent_id=execution.id if execution else None)
            condition = task.spec.trigger_policy.condition
            node.note = f"if {readable_condition(condition)}" if condition else "pipeline"
        nodes.append(node)
    return nodes


def _task_node(task: OutlineTask, execution: Execution | None, index: RunIndex) -> Node:
    key = task.key
    condition = task.spec.trigger_policy.condition
    label = task.spec.task_info.name or key
    title = key + (f"\nif {readable_condition(condition)}" if condition else "")
    if execution is None:
        return Node(key=key, label=label, kind="task", title=title + "\n(not run)")
    duration = index.durations.get(execution.id)
    started = execution_times(execution)[0] if execution.state == RUNNING and duration is None else None
    return Node(key=key, label=label, kind="task", state=execution.state, anchor=f"x{execution.id}",
                note=_timing(duration), title=f"{title}\n{execution.state}", started=started)


def _iterations(body: tuple[OutlineTask, ...], loop: Execution | None, index: RunIndex) -> list[Node]:
    recorded = index.iterations.get(loop.id, {}) if loop is not None else {}
    if not recorded:
        placeholder = Node(key="body", label="(no iteration ran)", kind="iteration")
        placeholder.children = _dag_children(body, index, parent_id=None)
        return [placeholder]
    nodes = []
    for number in sorted(recorded)[:MAX_ITERATIONS_DRAWN]:
        iteration = recorded[number]
        node = Node(key=f"[{number}]", label=_item_label(iteration), kind="iteration", state=iteration.state,
                    anchor=f"x{iteration.id}", title=_item_title(iteration))
        node.children = _dag_children(body, index, parent_id=iteration.id)
        nodes.append(node)
    hidden = len(recorded) - MAX_ITERATIONS_DRAWN
    if hidden > 0:
        nodes.append(Node(key="more", label=f"+{hidden} more iterations", kind="more"))
    return nodes


def readable_condition(condition: str) -> str:
    """The compiled CEL condition with `inputs.parameter_values['pipelinechannel--x']` shown as `x`."""
    return _INPUT_REF.sub(lambda m: m.group(1).removeprefix("pipelinechannel--"), condition)


def _item_label(iteration: Execution) -> str:
    items = [v for k, v in iteration.inputs.items() if "loop-item" in k]
    shown = json.dumps(items[0], ensure_ascii=False) if len(items) == 1 else ""
    return f"iteration {iteration.iteration_index}" + (f" · item {_clip(shown, 16)}" if shown else "")


def _item_title(iteration: Execution) -> str:
    inputs = iteration.inputs
    items = [f"{k.removeprefix('pipelinechannel--')} = {v!r}" for k, v in inputs.items() if "loop-item" in k]
    return "\n".join([f"iteration {iteration.iteration_index}", *items])


def _timing(seconds: float | None) -> str:
    return f"{seconds:.2f}s" if seconds is not None else ""


# Layout: every group is laid out inside its own coordinates, children before parents. ------------------


def layout(node: Node) -> None:
    """Give every node its size and its position inside its parent."""
    if node.kind in ("task", "more"):
        node.width, node.height = (LEAF_WIDTH, LEAF_HEIGHT) if node.kind == "task" else (LEAF_WIDTH, 30)
        return
    for child in node.children:
        layout(child)
    if node.kind == "loop":
        per_row = ITERATIONS_PER_ROW
        rows = [node.children[i:i + per_row] for i in range(0, len(node.children), per_row)]
    else:
        rows = _layers(node.children)
    right, y = 0.0, float(HEADER + PAD)
    centers: dict[str, float] = {}
    for row in rows:
        right = max(right, _place_row(row, centers=centers))
        for child in row:
            child.y = y
        y += max((c.height for c in row), default=0) + GAP_Y
    heading_width = min((len(_heading(node)) + 1) * _CHAR_WIDTH + 2 * PAD, MAX_HEADING_WIDTH)
    node.width = max(right + PAD, LEAF_WIDTH, heading_width)
    node.height = y - GAP_Y + PAD if node.children else HEADER + 2 * PAD


def _place_row(row: list[Node], *, centers: dict[str, float]) -> float:
    """Put each node under the middle of its producers, left to right without overlap; return the right
    edge."""
    cursor = float(PAD)
    for child in row:
        wanted = _mean(centers[d] for d in child.deps) - child.width / 2 if child.deps else cursor
        child.x = max(wanted, cursor)
        centers[child.key] = child.x + child.width / 2
        cursor = child.x + child.width + GAP_X
    return cursor - GAP_X


def _layers(children: list[Node]) -> list[list[Node]]:
    """Rows by topological level (graphlib); producers first in the top row, then by where producers sit."""
    by_key = {c.key: c for c in children}
    level: dict[str, int] = {}
    for key in graphlib.TopologicalSorter({c.key: c.deps for c in children}).static_order():
        level[key] = 1 + max((level[d] for d in by_key[key].deps), default=-1)
    rows: list[list[Node]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for child in children:
        rows[level[child.key]].append(child)
    feeding = {d for c in children for d in c.deps}
    position: dict[str, float] = {}
    for row in rows:
        row.sort(key=lambda c: (sum(position[d] for d in c.deps) / len(c.deps) if c.deps else -1,
                                c.key not in feeding, c.key))
        position.update({c.key: i for i, c in enumerate(row)})
    return rows


# Drawing ------------------------------------------------------------------------------------------------


def render_svg(root: Node) -> str:
    """The laid-out tree as one inline SVG element."""
    layout(root)
    width, height = root.width + 2, root.height + 2
    body = _draw_group(root, is_root=True)
    return (f'<svg class="dag" width="{width:.0f}" height="{height:.0f}"'
            f' viewBox="-1 -1 {width:.0f} {height:.0f}" role="img" aria-label="pipeline graph">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
            ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>'
            f"{body}</svg>")


def _draw_group(node: Node, *, is_root: bool = False) -> str:
    state = f" s-{node.state}" if node.state else " s-none"
    parts = [f'<g class="group k-{node.kind}{state}" transform="translate({node.x:.1f},{node.y:.1f})"'
             f' data-key="{_attr(node.key)}">']
    heading = _text(_clip(_heading(node), int((node.width - 2 * PAD) / _CHAR_WIDTH)))
    frame = (f'<rect class="frame" width="{node.width:.1f}" height="{node.height:.1f}" rx="8"/>'
             f'<text class="heading" x="{PAD}" y="16">{heading}</text>'
             f"<title>{_text(node.title or node.label)}</title>")
    parts.append(_link(node.anchor, frame) if node.anchor and not is_root else frame)
    parts += _edges(node)
    for child in node.children:
        parts.append(_draw_leaf(child) if child.kind in ("task", "more") else _draw_group(child))
    parts.append("</g>")
    return "".join(parts)


def _draw_leaf(node: Node) -> str:
    state = f" s-{node.state}" if node.state else " s-none"
    sub = node.state.lower() if node.state else ("" if node.kind == "more" else "not run")
    if node.note:
        sub += f" · {node.note}"
    label = _text(_clip(node.label, _LABEL_CHARS))
    inner = (f'<rect width="{node.width}" height="{node.height}" rx="6"/>'
             f'<text class="label" x="10" y="{18 if sub else 19}">{label}</text>'
             + (f'<text class="sub" x="10" y="34"{_started(node)}>{_text(sub)}</text>' if sub else "")
             + f"<title>{_text(node.title or node.label)}</title>")
    box = f'<g class="node k-{node.kind}{state}" transform="translate({node.x:.1f},{node.y:.1f})">{inner}</g>'
    return _link(node.anchor, box) if node.anchor else box


def _started(node: Node) -> str:
    return f' data-start="{node.started:.3f}"' if node.started is not None else ""


def _heading(node: Node) -> str:
    return node.label + (f" · {node.note}" if node.note else "")


def _edges(group: Node) -> list[str]:
    by_key = {c.key: c for c in group.children}
    paths = []
    for child in group.children:
        for dep in child.deps:
            source = by_key[dep]
            x1, y1 = source.x + source.width / 2, source.y + source.height
            x2, y2 = child.x + child.width / 2, child.y
            bend = max(12.0, (y2 - y1) / 2)
            paths.append(f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f}'
                         f' {x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2 - 1:.1f}" marker-end="url(#arrow)"/>')
    return paths


def _link(anchor: str | None, content: str) -> str:
    return f'<a href="#{anchor}" class="jump" data-target="{anchor}">{content}</a>'


def _mean(numbers: Iterable[float]) -> float:
    values = list(numbers)
    return sum(values) / len(values)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def _text(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)
