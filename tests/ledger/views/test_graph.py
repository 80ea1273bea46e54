"""`ledger.views.graph`: tasks become boxes in topological rows, groups enclose their tasks, edges follow
inputs."""

from __future__ import annotations

from ledger.views.graph import LEAF_HEIGHT, Node, layout, readable_condition, render_svg


def leaf(key: str, *deps: str) -> Node:
    return Node(key=key, label=key, kind="task", deps=list(deps))


def test_consumers_sit_below_their_producers_and_siblings_never_overlap() -> None:
    group = Node(key="root", label="p", kind="dag",
                 children=[leaf("a"), leaf("b"), leaf("c", "a", "b"), leaf("d", "c"), leaf("e")])
    layout(group)
    by_key = {child.key: child for child in group.children}
    assert by_key["a"].y == by_key["b"].y == by_key["e"].y
    assert by_key["c"].y >= by_key["a"].y + LEAF_HEIGHT
    assert by_key["d"].y >= by_key["c"].y + LEAF_HEIGHT
    for first in group.children:
        for second in group.children:
            if first is not second and first.y == second.y:
                assert first.x + first.width <= second.x or second.x + second.width <= first.x


def test_a_group_encloses_its_children() -> None:
    inner = Node(key="sub", label="sub", kind="dag", children=[leaf("x"), leaf("y", "x")])
    outer = Node(key="root", label="p", kind="dag", children=[leaf("a"), inner])
    layout(outer)
    for child in inner.children:
        assert child.x >= 0 and child.x + child.width <= inner.width
        assert child.y > 0 and child.y + child.height <= inner.height
    assert outer.width >= inner.x + inner.width and outer.height >= inner.y + inner.height


def test_loop_iterations_wrap_into_rows() -> None:
    iterations = [Node(key=f"[{i}]", label=f"iteration {i}", kind="iteration", children=[leaf("t")])
                  for i in range(6)]
    loop = Node(key="loop", label="loop", kind="loop", children=iterations)
    layout(loop)
    assert len({node.y for node in iterations}) == 2


def test_one_edge_per_dependency_and_links_to_details() -> None:
    root = Node(key="root", label="p", kind="dag", children=[leaf("a"), leaf("b", "a")])
    root.children[0].anchor = "x7"
    svg = render_svg(root)
    assert svg.count('<path class="edge"') == 1
    assert '<a href="#x7"' in svg


def test_labels_are_escaped() -> None:
    svg = render_svg(Node(key="root", label="p", kind="dag", children=[leaf("<script>")]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_conditions_read_with_input_names() -> None:
    condition = ("int(inputs.parameter_values['pipelinechannel--n']) > 1"
                 " && inputs.parameter_values[\"s\"] == 'x'")
    assert readable_condition(condition) == "int(n) > 1 && s == 'x'"
