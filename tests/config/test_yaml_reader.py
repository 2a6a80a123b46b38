"""molq._yaml: the YAML of config files, read as PyYAML's safe_load reads it."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq._yaml import YamlError, loads


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("", None),
        ("# just a comment\n", None),
        ("---\na: 1\n", {"a": 1}),
        ("a: 1\nb: -2\nc: 0x1F\nd: 0755\ne: 1_000\n", {"a": 1, "b": -2, "c": 31, "d": 493, "e": 1000}),
        ("a: 1.5\nb: .5\nc: 1.0e+3\nd: 1e3\n", {"a": 1.5, "b": 0.5, "c": 1000.0, "d": "1e3"}),
        (
            "a: yes\nb: Off\nc: true\nd: n\ne: ~\nf:\ng: null\n",
            {"a": True, "b": False, "c": True, "d": "n", "e": None, "f": None, "g": None},
        ),
        ("t: 1:30\nu: 01:00:00\n", {"t": 90, "u": "01:00:00"}),  # YAML 1.1 sexagesimal, as PyYAML
        ("url: http://127.0.0.1:17890  # the hub\n", {"url": "http://127.0.0.1:17890"}),
        ("q: 'it''s # not a comment'\nd: \"tab\\there \\u00e9\"\n", {"q": "it's # not a comment", "d": "tab\there é"}),
        (
            "l: [failed, timed_out]\nm: {a: 1, b: [x, 'y']}\n",
            {"l": ["failed", "timed_out"], "m": {"a": 1, "b": ["x", "y"]}},
        ),
        ('flags: ["--a",\n  "--b"]  # over two lines\n', {"flags": ["--a", "--b"]}),
        ("list:\n- a\n- b: 1\n  c: 2\n- - x\n  - y\n", {"list": ["a", {"b": 1, "c": 2}, ["x", "y"]]}),
        (
            "deps:\n  - job_id: j1\n    condition: after\n  -\n    job_id: j2\n",
            {"deps": [{"job_id": "j1", "condition": "after"}, {"job_id": "j2"}]},
        ),
        ("e: {}\nf: []\n", {"e": {}, "f": []}),
        ('"quoted key": 1\n', {"quoted key": 1}),
    ],
)
def test_reads_like_safe_load(text: str, value: object) -> None:
    assert loads(text) == value


def test_inf_and_nan() -> None:
    data = loads("a: .inf\nb: -.Inf\nc: .nan\n")
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x 1\n", "line 1: anchors"),
        ("a: *x\n", "line 1: aliases"),
        ("a: !!str 1\n", "line 1: tags"),
        ("a: |\n  text\n", "line 1: block scalars"),
        ("a:\n\tb: 1\n", "line 2: a tab"),
        ("a: [1, 2\n", "line 1: expected ',' or ']'"),
        ("a: 'open\n", "line 1: unterminated"),
        ("a: 1\n---\nb: 2\n", "line 2: several YAML documents"),
        ("a: 1\n  b: 2\n", "line 2: this line is indented more"),
        ("a: 1\njust words\n", "line 2: expected 'key: value'"),
        ('a: "\\q"\n', "line 1: unknown escape"),
    ],
)
def test_what_it_cannot_read_is_an_error_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(YamlError, match=message):
        loads(text)


keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    # one-line text: config values hold no line breaks (a string over several lines is refused)
    | st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"), max_size=20)
)
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
    ),
    max_size=6,
)


@given(documents, st.booleans())
def test_reads_whatever_pyyaml_writes(data: dict, flow: bool) -> None:
    yaml = pytest.importorskip("yaml")
    # width: a long string stays on one line (molq reads no folded scalars)
    text = yaml.safe_dump(data, default_flow_style=flow, width=10**9, allow_unicode=True)
    assert loads(text) == yaml.safe_load(text) == data
