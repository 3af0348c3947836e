"""The one YAML loader for every YAML file qpki reads (HSM configuration,
profiles, var files, batch files).

Safe types only (``yaml.SafeLoader``), and limits that hold before any of
the document reaches the code that walks it:

- the file is read through ``input_file.read_input`` (size cap, 1 MiB);
- nesting deeper than :data:`MAX_DEPTH` levels is refused while the
  document is composed (PyYAML's composer recurses once per level);
- the document's size with every alias expanded is at most
  :data:`MAX_NODES` nodes, and an alias may not refer to a node that
  contains it. A few anchors are fine; an alias bomb (``&a [x, x]``,
  ``&b [*a, *a]``... nine levels deep is 387 million nodes) is refused
  after composing a few dozen nodes, instead of costing minutes of CPU in
  whatever walks the result;
- a key given twice in one mapping is an error, not a silent overwrite.

Errors quote the problem and its position, never the document's text (an
HSM configuration could hold a secret by mistake). PyYAML is imported when
the first file is read, so importing this module never needs it.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import InputError
from .input_file import read_input

MAX_DEPTH = 50
MAX_NODES = 250_000

_LOADER: Any = None


def _children(node: Any) -> list:
    value = node.value
    if not isinstance(value, list):
        return []  # a scalar
    if value and isinstance(value[0], tuple):  # a mapping: (key, value) pairs
        return [part for pair in value for part in pair]
    return value


def expanded_size(root: Any) -> int | None:
    """Number of nodes of ``root`` once every alias is expanded, or None
    when an alias refers to a node that contains it (a cycle). Stops
    counting at MAX_NODES + 1."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            sizes[key] = min(total, MAX_NODES + 1)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            return None
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _loader() -> Any:
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    class LimitedLoader(yaml.SafeLoader):
        """SafeLoader with a depth and an expanded-size limit, no duplicate keys."""

        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise yaml.composer.ComposerError(
                        None, None, f"nested deeper than {MAX_DEPTH} levels",
                        self.peek_event().start_mark)
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def get_single_node(self) -> Any:
            node = super().get_single_node()
            if node is not None:
                size = expanded_size(node)
                if size is None:
                    raise yaml.composer.ComposerError(
                        None, None, "an alias refers to a node that contains it", node.start_mark)
                if size > MAX_NODES:
                    raise yaml.composer.ComposerError(
                        None, None, f"more than {MAX_NODES} nodes once aliases are expanded "
                        "(an alias bomb?)", node.start_mark)
            return node

    def construct_mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        seen = set()
        for key_node, _value in node.value:
            key = loader.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: SafeLoader reports it
                duplicate = False
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    LimitedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                  construct_mapping)
    _LOADER = (yaml, LimitedLoader)
    return _LOADER


def parse_yaml(data: bytes, where: str, error: type = InputError, column: bool = False) -> Any:
    """The document in ``data``; ``error(f"{where}: ...")`` when it is not
    UTF-8, not YAML, or breaks a limit. ``column`` adds the column to the
    position in messages."""
    yaml, loader = _loader()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{where}: not UTF-8 text") from None
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = ""
        if mark is not None:
            position = f" at line {mark.line + 1}"
            if column:
                position += f", column {mark.column + 1}"
        problem = getattr(exc, "problem", None) or "syntax error"
        raise error(f"{where}: invalid YAML{position}: {problem}") from None
    except RecursionError:  # the parser itself, beyond the composer's depth check
        raise error(f"{where}: invalid YAML: nested too deeply") from None


def read_yaml(path: str | os.PathLike[str], what: str, error: type = InputError) -> Any:
    """Parse the YAML file ``path``; errors say ``<what> "<path>": ...``."""
    path = os.fspath(path)
    return parse_yaml(read_input(path, what, error), f'{what} "{path}"', error)
