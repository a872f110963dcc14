"""A kernel that parses the numeric columns of a delimited text file straight from its bytes.

Why: a ratings file is millions of lines like ``1::1193::5::978300760``. ``np.loadtxt`` and
Python's ``str.split`` cost a Python object per field; pandas needs its slow Python engine for the
two-byte ``::`` separator. :func:`parse_fields` walks the bytes once: per line, per field, it reads
an optional sign, digits, an optional fraction and exponent, and checks that a separator (or the end
of the line) follows. A line that does not fit is reported by number instead of being guessed at.
"""

import numpy as np
from numba import njit

from . import entry

_NL = 10  # "\n"
_CR = 13  # "\r"


def _is_sep(buf, pos, sep):
    """True when ``sep`` (1 or more bytes) starts at ``buf[pos]``."""
    width = sep.shape[0]
    if pos + width > buf.shape[0]:
        return False
    for j in range(width):
        if buf[pos + j] != sep[j]:
            return False
    return True


is_sep = njit(cache=True)(_is_sep)


def _parse_fields(buf, sep, n_fields, out_col):
    """Parse the numeric fields of every line of ``buf``.

    Parameters
    ----------
    buf : (n_bytes,) uint8
        The file's bytes (without a header line). Lines end with ``\\n`` or ``\\r\\n``; the last
        one may lack it; empty lines are skipped.
    sep : (len(sep),) uint8
        The field separator, e.g. ``b"::"`` or ``b"\\t"``.
    n_fields : int
        Number of fields every line must have.
    out_col : (n_fields,) int64
        ``out_col[f]`` is the output column of field ``f``, or -1 to skip the field unparsed.

    Returns
    -------
    values : (n_rows, n_out) float64
        ``n_out = max(out_col) + 1``; one row per non-empty line.
    bad_line : int
        -1 when every line parsed; else the 0-based line number (counting empty lines) of the
        first malformed line, and ``values`` holds the rows before it.
    bad_field : int
        The 0-based field where the first malformed line went wrong (-1 when none).

    Number syntax: ``[+-]digits[.digits][(e|E)[+-]digits]``, at least one digit.
    NumPy twin: ``np.array([[float(x) for x in line.split(sep)] for line in lines])``.
    """
    n = buf.shape[0]
    n_out = 0
    for f in range(n_fields):
        if out_col[f] + 1 > n_out:
            n_out = out_col[f] + 1
    max_rows = 1
    for k in range(n):
        if buf[k] == _NL:
            max_rows += 1
    values = np.empty((max_rows, n_out), dtype=np.float64)
    row = 0
    line = 0
    pos = 0
    while pos < n:
        # skip an empty line
        if buf[pos] == _NL:
            pos += 1
            line += 1
            continue
        if buf[pos] == _CR and pos + 1 < n and buf[pos + 1] == _NL:
            pos += 2
            line += 1
            continue
        for f in range(n_fields):
            col = out_col[f]
            if col < 0:
                # skip an unparsed field: up to the separator or the end of the line
                while pos < n and buf[pos] != _NL and not is_sep(buf, pos, sep):
                    if buf[pos] == _CR and (pos + 1 == n or buf[pos + 1] == _NL):
                        break
                    pos += 1
            else:
                sign = 1.0
                if pos < n and (buf[pos] == 45 or buf[pos] == 43):  # "-" or "+"
                    if buf[pos] == 45:
                        sign = -1.0
                    pos += 1
                value = 0.0
                digits = 0
                while pos < n and 48 <= buf[pos] <= 57:
                    value = value * 10.0 + (buf[pos] - 48)
                    digits += 1
                    pos += 1
                if pos < n and buf[pos] == 46:  # "."
                    pos += 1
                    scale = 1.0
                    frac = 0.0
                    while pos < n and 48 <= buf[pos] <= 57:
                        frac = frac * 10.0 + (buf[pos] - 48)
                        scale *= 10.0
                        digits += 1
                        pos += 1
                    value += frac / scale
                if digits > 0 and pos < n and (buf[pos] == 101 or buf[pos] == 69):  # "e" or "E"
                    pos += 1
                    esign = 1
                    if pos < n and (buf[pos] == 45 or buf[pos] == 43):
                        if buf[pos] == 45:
                            esign = -1
                        pos += 1
                    exponent = 0
                    edigits = 0
                    while pos < n and 48 <= buf[pos] <= 57:
                        exponent = exponent * 10 + (buf[pos] - 48)
                        edigits += 1
                        pos += 1
                    if edigits == 0:
                        digits = 0
                    value *= 10.0 ** (esign * exponent)
                if digits == 0:
                    return values[:row], line, f
                values[row, col] = sign * value
            # what must follow the field: a separator, or the end of the line after the last one
            if f < n_fields - 1:
                if not is_sep(buf, pos, sep):
                    return values[:row], line, f
                pos += sep.shape[0]
            else:
                if pos < n and buf[pos] == _CR:
                    pos += 1
                if pos < n and buf[pos] != _NL:
                    return values[:row], line, f
                pos += 1
        row += 1
        line += 1
    return values[:row], -1, -1


parse_fields = entry(njit(cache=True)(_parse_fields), writes=())
