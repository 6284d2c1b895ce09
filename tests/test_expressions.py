"""The ``.=`` expression language: what the Flows docs describe, what real flows write, its limits."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from automate_lite.definitions import expressions
from automate_lite.definitions.expressions import FUNCTIONS, Expression, ExpressionError, evaluate, parse

# A state shaped like the ones flows see: action results under details, lists of listings.
STATE: dict[str, Any] = {
    "foo": "bar",
    "object_val": {"sub_val1": "embedded", "sub_val2": "also_embedded"},
    "source": {"id": "c1", "path": "/data/run7/"},
    "destination": {"id": "c2", "path": "/~/incoming/"},
    "listing": {"details": {"DATA": [{"name": "a.h5", "type": "file"}, {"name": "raw", "type": "dir"}]}},
    "stat_missing": {"details": {"code": "NotFound"}},
    "stat_dir": {"details": {"type": "dir", "name": "raw"}},
    "paths": ["/x/y.txt", "/x/z/", "/~/home.txt"],
    "nums": [3, 1, 2],
    "n": 7,
    "f": 2.5,
    "flag": True,
    "nothing": None,
    "result": {"details": {"result": ["/tmp/out/archive.tar.gz"]}},
}
CONTEXT = {"run_id": "R-1", "email": None, "username": "ada@example.org", "user_id": "urn:globus:auth:identity:u1"}


def ev(text: str, state: Any = None) -> Any:
    return evaluate(text, STATE if state is None else state, CONTEXT)


# ----------------------------------------------------------------------------- the documented core


@pytest.mark.parametrize(
    "text, value",
    [
        # The docs' own example: names, dotted keys and '+' on strings.
        ("foo + ' ' + object_val.sub_val1", "bar embedded"),
        ('foo + " " + object_val["sub_val2"]', "bar also_embedded"),
        ("nums + [4]", [3, 1, 2, 4]),
        ("n * 2 - 1", 13),
        ("n / 2", 3.5),
        ("n // 2", 3),
        ("n % 4", 3),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("-n", -7),
        ("(n + 1) * 2", 16),
        # The documented functions.
        ("pathsplit('/foo/bar/blech')", ["/foo/bar", "blech"]),
        ("pathsplit('/~/path')", ["/~/", "path"]),
        ("pathsplit('/~/')", ["/~/", ""]),
        ("pathsplit('name')", ["", "name"]),
        ("pathsplit('/top')", ["/", "top"]),
        ("is_present('foo')", True),
        ("is_present('object_val.sub_val1')", True),
        ("is_present('object_val.nope')", False),
        ("is_present('missing')", False),
        ("is_present('nums[2]')", True),
        ("is_present('nums[3]')", False),
        ("is_present('$.listing.details.DATA[0].name')", True),
        ("is_present('$.listing.details.DATA[5]')", False),
        ("missing if is_present('missing') else 10", 10),
        ("n if is_present('n') else 10", 7),
        ("getattr('n', 10)", 7),
        ("getattr('missing', 10)", 10),
        ("getattr('missing_property')", None),
        ("getattr('object_val.sub_val1', 'x')", "embedded"),
        ("getattr(source, 'id', 'none')", "c1"),
        ("getattr(source, 'label', 'none')", "none"),
        ("getattr(source, 'label')", None),
    ],
)
def test_documented_language(text: str, value: Any) -> None:
    assert ev(text) == value


# ----------------------------------------------------------------------------- what real flows write


@pytest.mark.parametrize(
    "text, value",
    [
        # Method calls on strings, chained, then indexed.
        ("source.path.rstrip('/').rpartition('/')[2]", "run7"),
        ("destination.path + source.path.rstrip('/').rpartition('/')[2]", "/~/incoming/run7"),
        ("source.path.split('/')[-2]", "run7"),
        ("source.path.endswith('/') and not foo.startswith('x')", True),
        ("source.path.startswith(['/tmp', '/data'])", True),
        ("'-'.join([foo, foo.upper()])", "bar-BAR"),
        ("'a.b.c'.rsplit('.', 1)", ["a.b", "c"]),
        ("'a=b'.partition('=')", ["a", "=", "b"]),
        ("'  x '.strip() + '|' + 'xxy'.lstrip('x') + '|' + 'yxx'.rstrip('x')", "x|y|y"),
        ("'abcabc'.replace('b', 'B', 1)", "aBcabc"),
        ("'Run'.lower() + 'run'.upper() + 'run x'.title() + 'rUN'.capitalize() + 'aB'.swapcase()", "runRUNRun XRunAb"),
        ("'banana'.count('a') + 'banana'.find('n') + 'banana'.rfind('n') + 'banana'.index('b')", 3 + 2 + 4 + 0),
        ("'7'.zfill(3) + '1'.rjust(2, '0') + '2'.ljust(2, '.') + 'c'.center(3, '*')", "00701" + "2." + "*c*"),
        ("'a\\nb'.splitlines()", ["a", "b"]),
        ("'file.tar.gz'.removesuffix('.gz').removeprefix('file')", ".tar"),
        ("['123'.isdigit(), 'ab'.isalpha(), 'a1'.isalnum(), ' '.isspace(), 'ab'.islower(), 'AB'.isupper()]", [True] * 6),
        ("nums.index(2) + nums.count(3)", 3),
        ("source.keys()", ["id", "path"]),
        ("source.values()", ["c1", "/data/run7/"]),
        ("source.items()", [["id", "c1"], ["path", "/data/run7/"]]),
        ("source.get('id') + source.get('nope', '!') + str(source.get('nope'))", "c1!null"),
        # Comprehensions with conditions, unpacking, nesting, dict comprehensions.
        ("[item.name for item in listing.details.DATA]", ["a.h5", "raw"]),
        ("[i.name for i in listing.details.DATA if i.type == 'dir']", ["raw"]),
        (
            "[{'source_path': source.path.rstrip('/') + '/' + e.name, 'destination_path': "
            "destination.path.rstrip('/') + '/' + e.name} for e in listing.details.DATA]",
            [
                {"source_path": "/data/run7/a.h5", "destination_path": "/~/incoming/a.h5"},
                {"source_path": "/data/run7/raw", "destination_path": "/~/incoming/raw"},
            ],
        ),
        ("[k + '=' + v for k, v in source.items()]", ["id=c1", "path=/data/run7/"]),
        ("[(k, v) for (k, v) in source.items()][0]", ["id", "c1"]),
        ("[x * y for x in [1, 2] for y in [10, 100] if x != y]", [10, 100, 20, 200]),
        ("[[c for c in w] for w in ['ab', 'c']]", [["a", "b"], ["c"]]),
        ("{e.name: e.type for e in listing.details.DATA}", {"a.h5": "file", "raw": "dir"}),
        ("[k for k in source]", ["id", "path"]),
        ("sum(x * 2 for x in nums)", 12),
        ("max(len(p) for p in paths)", 11),
        ("[n for n in nums][0] + n", 10),  # the comprehension's n does not leak out
        # Validity checks in the style of the transfer examples.
        ("['~' in p or p == '/' for p in paths] == [False] * len(paths)", False),
        ("'code' not in stat_missing.details or stat_missing.details.code != 'NotFound'", False),
        ("'code' not in stat_dir.details or stat_dir.details.code != 'NotFound'", True),
        ("'type' in stat_dir.details and stat_dir.details.type == 'dir'", True),
        (
            "[p.rstrip('/').rpartition('/')[2] + '/' if p.endswith('/') else pathsplit(p)[1] for p in paths]",
            ["y.txt", "z/", "home.txt"],
        ),
        (
            "source.path.rpartition('/')[2] if not flag else 'DEFAULT' if source.path == '/~/' "
            "else 'ROOT' if source.path == '/' else source.path.split('/')[-2]",
            "run7",
        ),
        ("getattr('destination_path', '/~/' + pathsplit(result.details.result[0])[1])", "/~/archive.tar.gz"),
        ("'/' + _context.run_id + '/'", "/R-1/"),
        ("(`$._context.email` or `$._context.username`) + ' (' + `$._context.user_id` + ')'", "ada@example.org (urn:globus:auth:identity:u1)"),
        ("str(len(`$.listing.details.DATA`))", "2"),
        ("'[' + str(f) + ', ' + str(n) + ']'", "[2.5, 7]"),
        # Literals, slices, conditionals, membership, identity.
        ("{'id': source.id, 'nested': {'list': [1, (2, 3)]}, 'empty': {}}", {"id": "c1", "nested": {"list": [1, [2, 3]]}, "empty": {}}),
        ("(1, 2) + (3,) + ()", [1, 2, 3]),
        ("nums[1:]", [1, 2]),
        ("nums[:-1]", [3, 1]),
        ("nums[::-1]", [2, 1, 3]),
        ("nums[::2]", [3, 2]),
        ("nums[-2:][0]", 1),
        ("foo[1:] + foo[:1]", "arb"),
        ("foo[::-1]", "rab"),
        ("nums[n - 7:n - 5]", [3, 1]),
        ("'bar' in foo and 'id' in source and 2 in nums and 'x' not in nums", True),
        ("nothing is None and n is not None and flag is True", True),
        ("1 < n <= 7 < 8", True),
        ("n > 5 or missing", True),  # short-circuit: missing is never read
        ("flag and n", 7),
        ("nothing or 'default'", "default"),
        ("[] or {} or 0 or ''", ""),
        ("'yes' if nums else 'no'", "yes"),
        ("\"it's\" + 'a \\'q\\'' + '\\x41\\u00e9\\t'", "it'sa 'q'A\u00e9\t"),
        ("1.5e1 + .5", 15.5),
    ],
)
def test_constructs_real_flows_use(text: str, value: Any) -> None:
    assert ev(text) == value


def test_every_function_is_listed_and_tested() -> None:
    assert set(FUNCTIONS) == {
        "len", "str", "int", "float", "bool", "abs", "min", "max", "sum", "round",
        "upper", "lower", "strip", "pathsplit", "is_present", "getattr",
    }  # fmt: skip
    cases = {
        "len('abc') + len([1]) + len({'a': 1})": 5,
        "str(1) + str(1.0) + str(true) + str(null) + str([1, 'a']) + str({'k': 1})": '11.0truenull[1, "a"]{"k": 1}',
        "int('42') + int(' 7 ') + int('2.9') + int(3.7) + int(true)": 55,
        "float('1.5') + float(2) + float(' 3 ')": 6.5,
        "[bool(0), bool(''), bool([]), bool('x'), bool({'a': 1})]": [False, False, False, True, True],
        "abs(-3) + abs(2.5)": 5.5,
        "[min(3, 1, 2), min(nums), min('b', 'a'), max(3, 9), max(nums), max(['x', 'y'])]": [1, 1, "a", 9, 3, "y"],
        "sum(nums) + sum([])": 6,
        "[round(2.5), round(3.14159, 2), round(1234, -2)]": [2, 3.14, 1200],
        "upper('a') + lower('B') + strip(' c ')": "Abc",
    }
    for text, value in cases.items():
        assert ev(text) == value, text


# ----------------------------------------------------------------------------- JSON semantics


def test_json_semantics() -> None:
    assert ev("true == 1") is False
    assert ev("[1, true] == [1, true]") is True
    assert ev("{'a': [1]} == {'a': [1.0]}") is True
    assert ev("1 in [true]") is False
    assert ev("nums.index(1)") == 1
    assert ev("[true].count(1)") == 0
    with pytest.raises(ExpressionError, match="cannot add"):
        ev("true + 1")


def test_results_are_fresh_and_the_state_is_never_changed() -> None:
    state = copy.deepcopy(STATE)
    listing = ev("listing", state)
    listing["details"]["DATA"].clear()
    ev("[e for e in listing.details.DATA]", state)
    ev("source.items()", state)
    assert state == STATE
    for text in ("nums.append(4)", "nums.sort()", "source.update({})", "source.pop('id')", "source.clear()"):
        with pytest.raises(ExpressionError, match="not an allowed method"):
            ev(text, state)
    assert state == STATE


def test_parsed_expressions_evaluate_against_many_states() -> None:
    expr = parse("[i * k for i in xs]")
    assert isinstance(expr, Expression) and expr.text == "[i * k for i in xs]"
    assert evaluate(expr, {"xs": [1, 2], "k": 3}) == [3, 6]
    assert evaluate(expr, {"xs": [], "k": 3}) == []
    assert parse("[i * k for i in xs]") is expr  # parsing is cached


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "text, reason, column",
    [
        ("n +", "ends too early", 4),
        ("n + * 2", "expected a value", 5),
        ("foo.", "expected a key or a method name", 5),
        ("[1, 2", "expected ',' or ']'", 6),
        ("{'a' 1}", "between a key and its value", 6),
        ("{'a': 1 'b'}", "expected ',' or '}'", 9),
        ("nums[1:2:3:4]", "at most three parts", 12),
        ("nums[]", "empty index", 5),
        ("f(1)", "unknown function 'f'", 1),
        ("nums(1)", "unknown function 'nums'", 1),
        ("nums[0](1)", "only the built-in functions can be called", 8),
        ("x = 1", "assignment", 3),
        ("len(x=1)", "keyword arguments", 6),
        ("lambda: 1", "'lambda' is not supported", 1),
        ("n if flag", "expected 'else'", 10),
        ("[x for in nums]", "expected a name after 'for'", 8),
        ("[x for x nums]", "expected 'in'", 10),
        ("x.__class__", "'__'", 3),
        ("__import__('os')", "'__'", 1),
        ("[1 for __x in nums]", "'__'", 8),
        ("'abc", "unterminated string", 1),
        ("`$.a", "unterminated backquoted JSONPath", 1),
        ("`$..a`", "backquoted path", 1),
        ("'\\x4'", "hex digits", 2),
        ("1 ~ 2", "unexpected character '~'", 3),
        ("12abc", "malformed number", 1),
        ("1e999", "too large", 1),
        ("9" * 400, "more than 300 characters", 1),
        ("   ", "empty", 1),
        ("for", "cannot start a value", 1),
        ("1 2", "unexpected text", 3),
    ],
)
def test_parse_errors_name_the_reason_the_column_and_the_expression(text: str, reason: str, column: int) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert reason in err.reason
    assert err.column == column and err.expression == text
    assert f"column {column}" in str(err) and reason in str(err)


@pytest.mark.parametrize(
    "text, reason, column",
    [
        ("missing + 1", "name 'missing' is not defined", 1),
        ("source.nope", "source has no key 'nope'", 7),
        ("source['nope']", "source has no key 'nope'", 7),
        ("nums[5]", "index 5 is out of range for nums", 5),
        ("nums['a']", "index must be a whole number", 5),
        ("source[1]", "object key must be a string", 7),
        ("n[0]", "cannot index integer", 2),
        ("n.real", "attribute access is not allowed", 2),
        ("foo.upper", "is a method: call it", 4),
        ("foo.format(1)", "format() is not an allowed method of string", 4),
        ("foo.split(1)", ".split() failed", 4),
        ("'ab'.index('z')", ".index() failed", 5),
        ("nums.index(9)", "is not in the list", 5),
        ("n + 'a'", "cannot add integer and string; convert with str(...) first", 3),
        ("foo - 1", "'-' takes numbers", 5),
        ("foo < 1", "cannot order string and integer", 5),
        ("1 in n", "needs a string, a list or an object", 3),
        ("1 in foo", "needs a string on the left", 3),
        ("n / 0", "division by zero", 3),
        ("n % 0.0", "division by zero", 3),
        ("0 ** -1", "division by zero", 3),
        ("(-8) ** 0.5", "not a real number", 6),
        ("-foo", "unary '-' takes a number", 1),
        ("nums[::0]", "step cannot be zero", 5),
        ("nums['a':]", "slice bounds are whole numbers", 5),
        ("n[1:]", "cannot slice integer", 2),
        ("{1: 2}", "object key must be a string", 2),
        ("[x for x in n]", "cannot loop over integer", 4),
        ("[a for a, b in nums]", "cannot unpack integer into 2 names", 4),
        ("len(n)", "len() takes a string", 1),
        ("len(1, 2)", "takes 1 argument(s), got 2", 1),
        ("round(1, 2, 3)", "takes 1 to 2 argument(s)", 1),
        ("int('x')", "cannot read", 1),
        ("int([])", "int() takes a number", 1),
        ("float('x')", "cannot read", 1),
        ("min()", "takes 1 to 10000", 1),
        ("min([])", "of nothing", 1),
        ("max(1, 'a')", "compares numbers with numbers", 1),
        ("sum(['a'])", "list of numbers", 1),
        ("round('a')", "takes numbers", 1),
        ("round(1.5, 1.5)", "whole number of digits", 1),
        ("pathsplit(1)", "pathsplit() takes a string", 1),
        ("is_present(1)", "takes the name of a state value as a string", 1),
        ("is_present('n +')", "cannot read the reference", 1),
        ("is_present('n + 1')", "takes a reference such as", 1),
        ("is_present('$..x')", "is_present():", 1),
        ("getattr(source, 1)", "takes a string key", 1),
        ("getattr('n', 1, 2)", "takes a reference and a default", 1),
        ("`$.nope`", "matched nothing", 1),
        ("'x'.join([1])", "join() takes a list of strings", 4),
        ("'x'.replace(1, 2)", "replace() takes two strings", 4),
        ("'x'.zfill(10 ** 6)", "width is a whole number up to", 4),
    ],
)
def test_evaluation_errors_name_the_reason_the_column_and_the_expression(text: str, reason: str, column: int) -> None:
    parse(text)  # every one of these is well-formed: the problem shows only with values
    with pytest.raises(ExpressionError) as info:
        ev(text)
    err = info.value
    assert reason in err.reason, err
    assert (err.column, err.expression) == (column, text)
    assert repr(text)[1:-1][:60] in str(err) and f"column {column}" in str(err)


def test_an_error_shows_a_long_expression_shortened() -> None:
    text = "missing + " + " + ".join(["1"] * 100)
    with pytest.raises(ExpressionError) as info:
        ev(text)
    assert info.value.expression == text
    assert len(str(info.value)) < 200 and "..." in str(info.value)


def test_bad_types_given_to_the_api() -> None:
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(12)  # type: ignore[arg-type]
    with pytest.raises(ExpressionError, match="longer than"):
        parse("1+" * 6000 + "1")
    with pytest.raises(ExpressionError, match="not a JSON value"):
        evaluate("x", {"x": [object()]})


# ----------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "text, reason",
    [
        ("'ab' * 600000", "more than 1000000"),
        ("[0] * 200000", "more than 100000"),
        ("big + big", "longer than 1000000"),
        ("big.replace('a', 'aa')", "replace() would give more than"),
        ("' '.join([big, big])", "join() would give more than"),
        ("2 ** 5000", "power is too large"),
        ("10.0 ** 400", "power is too large"),
        ("(10 ** 299) * (10 ** 299)", "integer result is too large"),
        ("1e308 * 10", "not finite"),
        ("round(5, -100000)", "at most 400 digits"),
        ("[x for x in long for y in long]", "more than 100000 turns"),
        ("[long == long for y in long[:20]]", "more than 1000000 steps"),
        ("[big[:500000] for x in long[:30]]", "builds more than 10000000"),
        ("[x for x in long + long]", "more than 100000 items"),
        ("int('1' * 400)", "longer than 320 characters"),
        ("float(10 ** 300 * 10 ** 9)", "integer result is too large"),
    ],
)
def test_limits(text: str, reason: str) -> None:
    state = {"big": "a" * 600_000, "long": list(range(60_000))}
    with pytest.raises(ExpressionError) as info:
        evaluate(text, state)
    assert reason in info.value.reason


def test_deep_values_and_nesting_fail_cleanly() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    # Reading a deep value: CPython 3.13 checks it without a RecursionError and hands it
    # back; older ones refuse it cleanly. Never a RecursionError.
    try:
        assert isinstance(evaluate("x", {"x": deep}), list)
    except ExpressionError as exc:
        assert "too deeply nested" in str(exc) or "not a JSON value" in str(exc)
    # Comparing is done by the interpreter: CPython 3.13's C-level comparison goes this
    # deep without a RecursionError; older ones hit it. Either way: the right answer or
    # a clean ExpressionError, never a RecursionError.
    try:
        assert evaluate("x == x", {"x": deep}) is True
    except ExpressionError as exc:
        assert "too deeply nested" in str(exc)
    with pytest.raises(ExpressionError, match="nests deeper than 48"):
        parse("[" * 60 + "]" * 60)
    with pytest.raises(ExpressionError, match="nests deeper than 48"):
        parse("-" * 60 + "1")
    assert evaluate("(((((x)))))", {"x": 1}) == 1


# ----------------------------------------------------------------------------- never anything but ExpressionError

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["a", "b", "x", "s", "l"]), inner, max_size=4),
    max_leaves=12,
)
_PIECES = [
    "a", "b", "x", "s", "l", "_context", "run_id", ".", "[", "]", "(", ")", "{", "}", ":", ",", " ", "0", "1", "-1",
    "2.5", "'s'", '"t"', "`$.a`", "`$.l[1:]`", "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", ">=", "in",
    "not", "and", "or", "if", "else", "for", "is", "None", "true", "len", "str", "int", "getattr", "is_present",
    "pathsplit", "min", "round", "strip", "split", "join", "get", "items", "keys", "index", "rpartition", "replace",
    "zfill", "__", "=", "\\", "'", "lambda",
]  # fmt: skip


def _safe_evaluate(text: str, state: Any) -> None:
    try:
        parse(text)
    except ExpressionError:
        pass
    try:
        result = evaluate(text, state, {"run_id": "R"})
    except ExpressionError as exc:
        assert str(exc) and exc.reason
    else:
        json.dumps(result)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60), _JSON)
def test_arbitrary_text_raises_only_expression_errors(text: str, state: Any) -> None:
    _safe_evaluate(text, state)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25), _JSON)
def test_token_soup_raises_only_expression_errors(pieces: list[str], state: Any) -> None:
    _safe_evaluate("".join(pieces), state)
    _safe_evaluate(" ".join(pieces), state)


def test_module_docstring_lists_every_function() -> None:
    doc = expressions.__doc__ or ""
    for name in FUNCTIONS:
        assert f"``{name}" in doc, name
