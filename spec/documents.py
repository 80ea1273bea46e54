"""Read JSON and YAML text into plain data, refusing hostile or ambiguous files before they cost anything.

Limits, the same for both formats: nesting at most `MAX_DEPTH` levels (the PyYAML C loader crashes the
process on deep nesting and `json` raises RecursionError, so YAML depth is measured from the parser's event
stream before anything is composed); YAML aliases may expand the document to at most `MAX_NODES` nodes (an
alias bomb of a few KB would otherwise expand to billions); a key given twice in one mapping is refused
(YAML accepts it silently and keeps the last); numbers must be finite (`NaN`, `Infinity`, `.nan`, `1e999` have
no JSON form: they would end up as bare tokens in the journal). Problems raise `DocumentError` with the line
and column (or JSON path) of the offending node.
"""

from __future__ import annotations

import json
import math
from typing import Any

from spec.errors import UsageError

MAX_DEPTH = 100
MAX_NODES = 1_000_000


class DocumentError(UsageError):
    """A file that is not a safe, unambiguous JSON or YAML document; the caller adds the file name."""


def load_json(text: str) -> Any:
    """One JSON document, with every limit of this module enforced."""
    try:
        document = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_pairs)
    except RecursionError as exc:
        raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels") from exc
    check_data(document)
    return document


def _refuse_constant(token: str) -> Any:
    raise DocumentError(f"{token} is not a JSON number (numbers must be finite)")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentError(f"key {key!r} given twice in one object")
        result[key] = value
    return result


def check_data(document: Any, *, json_path: str = "") -> None:
    """Refuse nesting deeper than MAX_DEPTH and non-finite numbers anywhere in parsed data (no recursion)."""
    stack: list[tuple[Any, str, int]] = [(document, json_path, 0)]
    while stack:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels at {_abbreviate(path)}")
        if isinstance(node, float) and not math.isfinite(node):
            where = f" at {path}" if path else ""
            raise DocumentError(f"number {node} is not finite{where} (JSON has no NaN or Infinity)")
        if isinstance(node, dict):
            stack.extend((value, _join(path, str(key)), depth + 1) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, f"{path}[{index}]", depth + 1) for index, value in enumerate(node))


def _abbreviate(path: str) -> str:
    return (path[:100] + "…") if len(path) > 100 else path or "the top level"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path and key.isidentifier() else f"{path}[{key!r}]" if path else key


def load_yaml(text: str) -> list[Any]:
    """Every document of a YAML stream, with every limit of this module enforced."""
    import yaml  # only YAML files pay for it

    # The C loader is several times faster on large specs; PyYAML builds without libyaml lack it.
    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_events(yaml.parse(text, Loader=base))
        documents = list(yaml.load_all(text, Loader=_strict_loader(base)))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in problem:  # PyYAML >= 6.0.4 scans ahead and stops at its own limit first
            raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels{where}") from exc
        raise DocumentError(f"invalid YAML{where}: {problem}") from exc
    except RecursionError as exc:  # the pure-Python loader, on nesting the event check let through
        raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels") from exc
    for document in documents:
        check_data(document)
    return documents


def _check_events(events: Any) -> None:
    """Depth and expanded size of the stream, from parser events (libyaml's parser does not recurse)."""
    import yaml

    sizes: list[int] = []  # nodes counted so far in each open collection
    anchored: dict[str, int] = {}  # anchor -> expanded size of its node
    anchors: list[str | None] = []
    total = 0
    for event in events:
        if isinstance(event, yaml.CollectionStartEvent):
            if len(sizes) >= MAX_DEPTH:
                raise DocumentError(f"nesting deeper than {MAX_DEPTH} levels{_at(event)}")
            sizes.append(1)
            anchors.append(event.anchor)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = sizes.pop(), anchors.pop()
        elif isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
        elif isinstance(event, yaml.AliasEvent):
            size, anchor = anchored.get(event.anchor or "", 1), None
        else:
            continue
        if anchor is not None:
            anchored[anchor] = size
        if sizes:
            sizes[-1] += size
        else:
            total += size
        if sum(sizes) + total > MAX_NODES:
            raise DocumentError(f"aliases expand the document past {MAX_NODES:,} nodes{_at(event)}")


def _at(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""


def _strict_loader(base: Any) -> Any:
    """`base` refusing a key given twice in one mapping."""
    import yaml

    class StrictLoader(base):  # type: ignore[misc]  # PyYAML's loaders are untyped
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[tuple[str, str]] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key_node.value!r} given twice in one mapping", key_node.start_mark
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader
