"""JSONPath slices and the reader's robustness (the basics are in test_runner.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automate_lite.definitions import jsonpath
from automate_lite.definitions.jsonpath import JSONPathError, PathNotFound, Slice

DOC: dict[str, Any] = {"items": [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c"}], "s": "text", "m": {"k": [1, 2, 3]}}


@pytest.mark.parametrize(
    "path, value",
    [
        ("$.items[1:]", [{"name": "b", "n": 2}, {"name": "c"}]),
        ("$.items[:1]", [{"name": "a", "n": 1}]),
        ("$.items[-1:]", [{"name": "c"}]),
        ("$.items[::-1].name", ["c", "b", "a"]),
        ("$.items[::2].name", ["a", "c"]),
        ("$.items[1:].n", [2]),  # items without the key are skipped, as with [*]
        ("$.items[ 0 : 2 ].name", ["a", "b"]),
        ("$.items[5:]", []),
        ("$.m.k[1:3]", [2, 3]),
        ("$['m']['k'][:]", [1, 2, 3]),
    ],
)
def test_slices_read_like_python(path: str, value: Any) -> None:
    assert jsonpath.get(DOC, path) == value
    assert jsonpath.exists(DOC, path)


def test_slice_steps_format_back_to_text() -> None:
    steps = jsonpath.parse("$.items[1:][::-1][-2:5:2]")
    assert steps == ("items", Slice(1, None, None), Slice(None, None, -1), Slice(-2, 5, 2))
    assert jsonpath.format_path(steps) == "$.items[1:][::-1][-2:5:2]"


@pytest.mark.parametrize("path", ["$.items[::0]", "$.items[1:2:3:4]", "$.items[a:]", "$.items[1.5:]", "$.items[+1]", "$[1_0]", "$[²]"])
def test_bad_slices_and_indexes(path: str) -> None:
    with pytest.raises(JSONPathError):
        jsonpath.parse(path)


def test_slices_need_a_list_and_cannot_be_written() -> None:
    with pytest.raises(PathNotFound, match="not a list to slice"):
        jsonpath.get(DOC, "$.s[1:]")
    with pytest.raises(JSONPathError, match="wildcard or a slice"):
        jsonpath.put(copy.deepcopy(DOC), "$.items[1:]", 0)


def test_long_paths_are_refused() -> None:
    with pytest.raises(JSONPathError, match="longer than"):
        jsonpath.parse("$" + ".a" * 6000)


_PIECES = ["$", "$$", ".", "..", "[", "]", "*", ":", "-1", "0", "2", "'", '"', "\\", "a", "items", "_context", " ", "x y", "[*]", "[1:]"]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["a", "items", "x y"]), inner, max_size=3),
    max_leaves=10,
)


def _check(path: str, doc: Any) -> None:
    try:
        steps = jsonpath.parse(path)
    except JSONPathError:
        return
    jsonpath.format_path(steps)
    try:
        jsonpath.get(doc, path, {"run_id": "R"})
    except PathNotFound:
        pass
    try:
        jsonpath.put(copy.deepcopy(doc), path, 1)
    except (PathNotFound, JSONPathError):
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), _JSON)
def test_arbitrary_text_raises_only_jsonpath_errors(text: str, doc: Any) -> None:
    _check(text, doc)
    _check("$" + text, doc)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=15), _JSON)
def test_path_soup_raises_only_jsonpath_errors(pieces: list[str], doc: Any) -> None:
    _check("".join(pieces), doc)
