"""The exception tree drawn in errors.py is the real class hierarchy."""

from __future__ import annotations

import re

from btvstat_open import errors


def _drawn_tree() -> dict[str, str | None]:
    """Map each class named in the module docstring's tree to its drawn parent."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*)(?:[│ ]*[├└]── )?([A-Z][A-Za-z]+)\b", line)
        if not match or not line.strip() or ("──" not in line and line.strip() != "BtvstatError"):
            continue
        prefix = line[: line.index(match.group(2))]
        depth = len(prefix)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(2)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(2)))
    return parents


def test_tree_lists_every_error_class() -> None:
    drawn = _drawn_tree()
    defined = {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, errors.BtvstatError)
    }
    assert set(drawn) == defined


def test_tree_parents_match_the_classes() -> None:
    for name, parent in _drawn_tree().items():
        cls = getattr(errors, name)
        if parent is None:
            assert cls is errors.BtvstatError
        else:
            assert cls.__bases__[0] is getattr(errors, parent), name


def test_socrata_error_body() -> None:
    exc = errors.SoqlError("No such column: foo", code="query.soql.no-such-column")
    assert exc.http_status == 400
    assert exc.to_socrata() == {
        "code": "query.soql.no-such-column",
        "error": True,
        "message": "No such column: foo",
    }


def test_portal_error_names_code_and_request_id() -> None:
    exc = errors.PortalNotFound("Not found", status=404, code="dataset.missing", request_id="abc123")
    assert "dataset.missing" in str(exc) and "abc123" in str(exc) and "404" in str(exc)
    assert isinstance(exc, errors.PortalError)
