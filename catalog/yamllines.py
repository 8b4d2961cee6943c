"""Read YAML while remembering the line of every key, so errors can point at it.

Example:
    >>> data, lines = load_with_lines("a: 1\\nb:\\n  c: x\\n")
    >>> data, lines[("b", "c")]
    ({'a': 1, 'b': {'c': 'x'}}, 3)
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YamlProblem", "line_for", "load_with_lines"]

Path_ = tuple[str | int, ...]

# libyaml's parser when the wheel has it (several times faster); nodes carry line marks either way.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(Exception):
    """A YAML file that does not parse, or repeats a key; ``line`` is 1-based."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_with_lines(text: str) -> tuple[Any, dict[Path_, int]]:
    """Parse one YAML document; returns the data and ``{key path: line}`` (the root is ``()``).

    Raises :class:`YamlProblem` for syntax errors and duplicate keys.
    """
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        if node is None:
            return None, {(): 1}
        return _build(loader, node, (), lines), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or str(exc)
        raise YamlProblem(f"not valid YAML: {reason} (check indentation, colons and quotes)", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"not valid YAML: {exc}", None) from None
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise YamlProblem("keys must be plain words", key_node.start_mark.line + 1)
            key_str = str(key) if not isinstance(key, str) else key
            if key_str in result:
                raise YamlProblem(
                    f"key '{key_str}' appears twice in the same block; keep one",
                    key_node.start_mark.line + 1,
                )
            lines[(*path, key_str)] = key_node.start_mark.line + 1
            result[key_str] = _build(loader, value_node, (*path, key_str), lines)
            # The key's own line, not its value's, is where a reader looks.
            lines[(*path, key_str)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*path, i), lines) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:  # YAML reads 2020-13-04 as a date, and the calendar refuses it
        raise YamlProblem(
            f"{node.value!r} is not a date: write YYYY-MM-DD with a real month and day, e.g. 2020-03-04",
            node.start_mark.line + 1,
        ) from None


def line_for(lines: dict[Path_, int], path: Path_) -> int:
    """The line of the deepest known prefix of ``path`` (1 when nothing is known)."""
    for end in range(len(path), -1, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return 1
