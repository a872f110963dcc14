"""The byte-level field parser equals Python's split + float, and reports the first bad line."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinyrec.kernels.parse import _parse_fields, parse_fields


def run(text, sep, n_fields, columns, plain=False):
    out_col = np.full(n_fields, -1, dtype=np.int64)
    for j, c in enumerate(columns):
        out_col[c] = j
    fn = _parse_fields if plain else parse_fields
    buf = np.frombuffer(text.encode(), dtype=np.uint8)
    return fn(buf, np.frombuffer(sep.encode(), dtype=np.uint8), n_fields, out_col)


@settings(max_examples=40)
@given(
    n=st.integers(1, 30),
    sep=st.sampled_from([",", "\t", "::", "|"]),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_parse_fields_equals_python_split(n, sep, crlf, final_newline, seed):
    rng = np.random.default_rng(seed)
    ints = rng.integers(-(10**9), 10**10, size=(n, 3))
    halves = rng.integers(0, 11, size=n) / 2  # 0, 0.5, ..., 5.0
    lines = [f"{a}{sep}{b}{sep}{h}{sep}{c}" for (a, b, c), h in zip(ints, halves, strict=True)]
    nl = "\r\n" if crlf else "\n"
    text = nl.join(lines) + (nl if final_newline else "")
    values, bad_line, bad_field = run(text, sep, 4, [0, 1, 2, 3])
    assert bad_line == -1 and bad_field == -1
    expected = np.array([[float(x) for x in line.split(sep)] for line in lines])
    np.testing.assert_array_equal(values, expected)


def test_parse_fields_skips_columns_and_blank_lines():
    text = "1,abc,2.5\n\n3,d e f,-4e2\n"
    values, bad, _ = run(text, ",", 3, [2, 0])  # output columns: field 2, then field 0
    assert bad == -1
    np.testing.assert_array_equal(values, [[2.5, 1.0], [-400.0, 3.0]])


@pytest.mark.parametrize(
    "text, bad_line, bad_field",
    [
        ("1,2,3\n4,x,6\n", 1, 1),  # not a number
        ("1,2,3\n4,5\n", 1, 1),  # too few fields
        ("1,2,3\n4,5,6,7\n", 1, 2),  # too many fields
        ("1,2,3\n\n4,5,\n", 2, 2),  # empty last field (line numbers count blank lines)
        ("1,2,3.\n", -1, -1),  # "3." is a number
        ("1,2,e5\n", 0, 2),  # an exponent without digits before it
    ],
)
def test_parse_fields_reports_first_malformed_line(text, bad_line, bad_field):
    for plain in (False, True):
        values, line, field = run(text, ",", 3, [0, 1, 2], plain=plain)
        assert (line, field) == (bad_line, bad_field)
        if bad_line >= 0:
            assert values.shape[0] <= bad_line


def test_parse_fields_empty_input():
    values, bad, _ = run("", ",", 2, [0, 1])
    assert bad == -1 and values.shape == (0, 2)
