"""from_csv and the numeric table reader: columns by index or name, separators, errors with line numbers."""

import numpy as np
import pytest

from tinyrec.data import from_csv
from tinyrec.data.parsing import read_numeric_table
from tinyrec.errors import ArgumentTypeError, DataError, NonFiniteError


def write(tmp_path, text, name="r.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_header_names_and_inference(tmp_path):
    path = write(tmp_path, "ts,user,item,stars\n10,7,100,4.5\n11,3,100,2\n12,7,200,1\n")
    data = from_csv(path, user="user", item="item", rating="stars", timestamp="ts")
    assert data.user_ids.tolist() == [3, 7] and data.item_ids.tolist() == [100, 200]
    assert data.ratings.tolist() == [4.5, 2.0, 1.0] and data.timestamps.tolist() == [10, 11, 12]
    inferred = from_csv(path, user=1, item=2, rating=3)  # header inferred from the non-numeric first line
    np.testing.assert_array_equal(inferred.ratings, data.ratings)
    assert inferred.timestamps is None


def test_no_header_double_colon_and_implicit(tmp_path):
    path = write(tmp_path, "1::10::5::978300760\n2::10::3::978300761\n", "r.dat")
    data = from_csv(path, sep="::", rating=None, timestamp=3, header=False)
    assert data.ratings.tolist() == [1.0, 1.0] and data.timestamps.tolist() == [978300760, 978300761]


def test_string_ids(tmp_path):
    path = write(tmp_path, 'user,item,rating\nann,"book, the",4\nbob,tt0114508,3\n')
    data = from_csv(path, string_ids=True)
    assert data.user_ids.tolist() == ["ann", "bob"] and data.item_ids.tolist() == ["book, the", "tt0114508"]
    path = write(tmp_path, "user,item,rating\nann,x,nan\n")
    with pytest.raises(NonFiniteError):
        from_csv(path, string_ids=True)
    path = write(tmp_path, "user,item,rating\nann,x\n")
    with pytest.raises(DataError, match="line 2"):
        from_csv(path, string_ids=True)


def test_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path, "user,item,rating\n1,2,3\n1,2,3\n4,five,6\n")
    with pytest.raises(DataError, match=r"r\.csv, line 4: malformed .*'4,five,6'"):
        from_csv(path)
    path = write(tmp_path, "1,2,3\n1,2,nan\n")
    with pytest.raises(DataError, match="line 2"):
        from_csv(path, header=False)


def test_bad_files_and_columns(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        from_csv(tmp_path / "missing.csv")
    with pytest.raises(DataError, match="empty"):
        from_csv(write(tmp_path, ""), header=False)
    with pytest.raises(DataError, match="empty"):
        from_csv(write(tmp_path, "user,item,rating\n"))
    path = write(tmp_path, "user,item,rating\n1,2,3\n")
    with pytest.raises(DataError, match="no column named 'stars'"):
        from_csv(path, rating="stars")
    with pytest.raises(ValueError, match="no header"):
        from_csv(path, header=False, user="user")
    with pytest.raises(DataError, match="column 5"):
        from_csv(path, rating=5)
    with pytest.raises(DataError, match="ids must be integers"):
        from_csv(write(tmp_path, "user,item,rating\n1.5,2,3\n"))
    # a negative raw id is just a raw id: it gets a dense index like any other
    assert from_csv(write(tmp_path, "u,i,r\n-1,2,3\n")).user_ids.tolist() == [-1]


def test_read_numeric_table_counts_lines_after_header():
    with pytest.raises(DataError, match="x.dat, line 3"):
        read_numeric_table(
            b"1\t2\nbad\t2\n", sep="\t", n_fields=2, columns=[0, 1], source="x.dat", first_line=2
        )


# ------------------------------------------------------------------ header inference, BOM, quotes
def test_string_ids_without_header_keep_the_first_line(tmp_path):
    # string ids never parse as numbers, so line 1 used to be taken for a header: alice was lost
    data = from_csv(write(tmp_path, "alice,m1,3\nbob,m2,4\n"), string_ids=True)
    assert data.user_ids.tolist() == ["alice", "bob"] and len(data) == 2
    # the rating column decides: a header's "rating" is not a number
    data = from_csv(write(tmp_path, "user,item,rating\nalice,m1,3\n"), string_ids=True)
    assert data.user_ids.tolist() == ["alice"]
    # a quoted separator on line 1 does not shift the rating column
    data = from_csv(write(tmp_path, 'ann,"book, the",4\nbob,x,3\n'), string_ids=True)
    assert data.user_ids.tolist() == ["ann", "bob"]
    # no rating or timestamp column: nothing tells a header from data, so ask
    path = write(tmp_path, "alice,m1\nbob,m2\n")
    with pytest.raises(ValueError, match="is a header or data; pass header=True or header=False"):
        from_csv(path, string_ids=True, rating=None)
    assert len(from_csv(path, string_ids=True, rating=None, header=False)) == 2


def test_byte_order_mark_is_not_a_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf1,2,3\n4,5,6\n")
    assert len(from_csv(path)) == 2  # the BOM made line 1 look like a header
    path.write_bytes(b"\xef\xbb\xbfuser,item,rating\n1,2,3\n")
    assert from_csv(path, user="user", item="item", rating="rating").user_ids.tolist() == [1]


def test_quoted_numbers_are_an_error_naming_the_fix(tmp_path):
    path = write(tmp_path, '"1","2","3"\n"4","5","6"\n')
    with pytest.raises(DataError, match=r"r\.csv, line 1: malformed .*quoted fields .*string_ids=True"):
        from_csv(path)  # used to take line 1 for a header
    data = from_csv(path, string_ids=True)
    assert data.user_ids.tolist() == ["1", "4"] and data.ratings.tolist() == [3.0, 6.0]


@pytest.mark.parametrize("bad", ["no", "yes", 1, 0])
def test_header_accepts_only_infer_true_false(tmp_path, bad):
    with pytest.raises(ValueError, match="header must be 'infer', True or False"):
        from_csv(write(tmp_path, "1,2,3\n4,5,6\n"), header=bad)


# ------------------------------------------------------------------ ids beyond float64's exact range
def test_ids_beyond_2_to_53_are_refused_not_merged(tmp_path):
    path = write(tmp_path, "1234567890123456789,1,3\n1234567890123456790,2,4\n")
    with pytest.raises(DataError, match=r"r\.csv, line 1: '1234567890123456789,1,3': the user id is too"):
        from_csv(path)  # both ids used to become one user
    data = from_csv(path, string_ids=True)  # the fix the message names
    assert data.user_ids.tolist() == ["1234567890123456789", "1234567890123456790"]
    # the line number counts the header and blank lines; timestamps are checked too
    path = write(tmp_path, "u,i,r,t\n1,2,3,4\n\n5,6,7,1700000000000000000\n")
    with pytest.raises(DataError, match=r"line 4: .*the timestamp is too large"):
        from_csv(path, timestamp=3)
    assert from_csv(path, timestamp=3, string_ids=True).timestamps.tolist() == [4, 1700000000000000000]
    # the largest exact integer still reads as a number
    exact = from_csv(write(tmp_path, "9007199254740991,1,3\n-9007199254740991,1,3\n"))
    assert exact.user_ids.tolist() == [-9007199254740991, 9007199254740991]


# ------------------------------------------------------------------ argument checks
def test_bad_sep_encoding_and_columns(tmp_path):
    path = write(tmp_path, "1,2,3\n")
    for bad in (None, "", "\n", 5):
        with pytest.raises(ValueError, match="sep must be a non-empty string"):
            from_csv(path, sep=bad)
    with pytest.raises(ValueError, match="encoding='nope' is not a known text encoding"):
        from_csv(path, encoding="nope")
    with pytest.raises(ValueError, match="not ASCII-compatible"):
        from_csv(path, encoding="utf-16")
    with pytest.raises(TypeError, match="encoding must be a string"):
        from_csv(path, encoding=None)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="user must be a 0-based column index"):
            from_csv(path, user=bad)


def test_text_not_in_the_encoding_names_file_line_and_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("user,item,rating\nann,x,3\nJosé,y,4\n".encode("latin-1"))
    expected = r"latin\.csv, line 3: the bytes b'\\xe9' are not valid utf-8; .*encoding="
    with pytest.raises(DataError, match=expected):
        from_csv(path, string_ids=True)
    assert "José" in from_csv(path, string_ids=True, encoding="latin-1").user_ids.tolist()
    path.write_bytes("usér,item,rating\n1,2,3\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"line 1: .*not valid utf-8"):
        from_csv(path, user="usér", item="item", rating="rating")
    assert len(from_csv(path)) == 1  # numeric columns by index: the header's text is not needed


def test_lone_carriage_returns_are_a_clear_error(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"a,b,3\nc,d,4\re,f,5\n")
    with pytest.raises(DataError, match=r"mac\.csv, line 2: not readable as CSV .*lone carriage return"):
        from_csv(path, string_ids=True)  # was the csv module's own csv.Error


def test_path_must_be_a_path():
    with pytest.raises(TypeError, match="path must be a str or a pathlib.Path"):
        from_csv(None)


def test_one_column_cannot_serve_two_roles(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(ValueError, match="one column is used for two roles"):
        from_csv(path, user=0, item=0, rating=2)


def test_utf8_sig_encoding_and_pandas_header_none(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xef\xbb\xbfuser,item,rating\n1,2,3\n4,5,6\n")
    assert len(from_csv(path, encoding="utf-8-sig")) == 2  # Excel's CSV encoding reads ASCII as ASCII
    plain = tmp_path / "u.data"
    plain.write_text("1\t2\t3\n4\t5\t6\n")
    assert len(from_csv(plain, sep="\t", header=None)) == 2  # pandas' spelling of "no header"
    with pytest.raises(ValueError, match="not ASCII-compatible"):
        from_csv(plain, encoding="utf-16")


def test_a_named_and_an_indexed_column_cannot_be_the_same(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("userId,movieId,rating\n1,2,3\n")
    with pytest.raises(ValueError, match="one column is used for two roles"):
        from_csv(path, user="userId", item=0)


def test_string_ids_flag_and_the_undecidable_header_message(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("user,book\nalice,b1\n")
    with pytest.raises(TypeError, match="string_ids must be True, False or 'auto'"):
        from_csv(path, rating=None, string_ids="no")
    with pytest.raises(ValueError, match=r"first line 'user,book' is a header or data; pass header=True"):
        from_csv(path, rating=None, string_ids=True)
    assert len(from_csv(path, rating=None, string_ids=True, header=True)) == 1


def test_string_ids_timestamp_beyond_int64_names_the_line(tmp_path):
    # np.array(stamps, dtype=np.int64) raised a raw OverflowError
    for stamp in ("99999999999999999999", "9223372036854775808", "-9223372036854775809"):
        path = write(tmp_path, f"a,b,3,5\na,b,3,{stamp}\n")
        expected = rf"r\.csv, line 2: the timestamp {stamp} does not fit in int64 .* fix or drop that line"
        with pytest.raises(DataError, match=expected):
            from_csv(path, string_ids=True, timestamp=3, header=False)
    path = write(tmp_path, "u,i,r,t\na,b,3,9223372036854775807\nc,d,4,-9223372036854775808\n")
    data = from_csv(path, string_ids=True, timestamp=3)
    assert data.timestamps.tolist() == [2**63 - 1, -(2**63)]


def test_column_index_of_the_wrong_type_is_an_argument_type_error(tmp_path):
    path = write(tmp_path, "1,2,3\n")
    for bad in (1.0, 1.5, True, [0]):
        expected = r"item must be a 0-based column index \(int >= 0\) or a header name"
        with pytest.raises(ArgumentTypeError, match=expected):
            from_csv(path, item=bad)
    expected = r"rating must be a 0-based column index \(int >= 0\).*got -2"
    with pytest.raises(ValueError, match=expected) as info:
        from_csv(path, rating=-2)
    assert not isinstance(info.value, TypeError)  # right type, wrong value: a plain ValueError
    assert from_csv(path, user=np.int64(1), item=0, rating=2).user_ids.tolist() == [2]


# ------------------------------------------------------------------ header inference: no silent drop
def test_a_first_line_with_an_empty_field_is_data_not_a_header(tmp_path):
    # "1,,3" was taken for a header and dropped without a word
    path = write(tmp_path, "1,,3\n4,5,6\n")
    expected = r"r\.csv, line 1: malformed .*field 2 is wrong.*'1,,3'; field 2 is empty"
    with pytest.raises(DataError, match=expected):
        from_csv(path)
    # with string ids, an empty rating is not a header's name either
    path = write(tmp_path, "a,b,,5\nc,d,4,6\n")
    with pytest.raises(DataError, match="line 1: malformed number"):
        from_csv(path, string_ids=True, timestamp=3)


def test_a_header_names_both_id_columns(tmp_path):
    # one non-numeric id field is a malformed data line, not a header ("0x10,2,3" was "empty")
    path = write(tmp_path, "0x10,2,3\n")
    expected = r"r\.csv, line 1: malformed .*'0x10'.* not a number.*string_ids=True"
    with pytest.raises(DataError, match=expected):
        from_csv(path)
    assert from_csv(path, string_ids=True, header=False).user_ids.tolist() == ["0x10"]
    assert len(from_csv(write(tmp_path, "userId,movieId,rating\n1,2,3\n"))) == 1  # a real header


def test_a_file_whose_only_line_is_taken_for_a_header_says_so(tmp_path):
    path = write(tmp_path, "u1,i1,3\n")
    with pytest.raises(DataError, match=r"empty after its header line 'u1,i1,3'.*header=False"):
        from_csv(path)
    with pytest.raises(DataError, match="empty after its header line"):
        from_csv(path, header=True, string_ids=True)
    assert from_csv(path, header=False, string_ids=True).user_ids.tolist() == ["u1"]


def test_text_ids_name_string_ids_as_the_fix(tmp_path):
    # the message said "field 1 is wrong" with no hint of string_ids=True
    path = write(tmp_path, "user,item,rating\nu1,i1,3\n")
    with pytest.raises(DataError, match=r"line 2: .*field 1 \('u1'\) is not a number: .*string_ids=True"):
        from_csv(path)
    assert from_csv(path, string_ids=True).user_ids.tolist() == ["u1"]
    # text in the rating column: string ids would not help, so they are not suggested
    with pytest.raises(DataError, match="field 3 is wrong") as info:
        from_csv(write(tmp_path, "1,2,x\n"))
    assert "string_ids" not in str(info.value)


def test_string_ids_auto_reads_numbers_as_numbers_and_falls_back_to_text(tmp_path):
    numeric = from_csv(write(tmp_path, "user,item,rating\n1,10,4\n2,10,3\n"), string_ids="auto")
    assert numeric.user_ids.dtype.kind == "i" and numeric.item_ids.tolist() == [10]
    for text, users in [
        ("user,item,rating\nalice,tt01,4\nbob,tt01,3\n", ["alice", "bob"]),  # a header, text ids
        ("alice,tt01,4\nbob,tt01,3\n", ["alice", "bob"]),  # no header: the first line is data
        ("1,10,4\n2,10,3\nx7,10,5\n", ["1", "2", "x7"]),  # text on line 3: every id is text
        ("1,10,4\n9007199254740993,10,3\n", ["1", "9007199254740993"]),  # beyond 2**53: exact as text
        ('1,"10",4\n2,10,3\n', ["1", "2"]),  # a quoted field
    ]:
        data = from_csv(write(tmp_path, text), string_ids="auto")
        assert data.user_ids.tolist() == users, text
    # what the text reader cannot read either is reported by it, with the line
    with pytest.raises(DataError, match=r"line 3: malformed number"):
        from_csv(write(tmp_path, "alice,m1,4\nbob,m2,3\ncy,m3,lots\n"), string_ids="auto")
    with pytest.raises(DataError, match=r"line 2: malformed .*field 3 is wrong"):  # numeric ids, bad rating
        from_csv(write(tmp_path, "1,10,4\n2,10,lots\n"), string_ids="auto")


def test_feature_files_of_users_and_items(tmp_path):
    ratings = write(tmp_path, "user,item,rating\nann,b1,4\nbob,b1,3\nbob,b2,5\n")
    users = write(tmp_path, "user,age,city\nbob,31,Paris\nann,,Lyon\ncid,40,Nice\n", "users.csv")
    items = write(tmp_path, "item,tags,year\nb2,scifi|classic,1951\nb1,poetry,1857\n", "items.csv")
    with pytest.warns(UserWarning, match="1 rows name ids not in the data"):  # cid: counted, not silent
        data = from_csv(ratings, string_ids=True, user_features=users, item_features=items,
                        item_kinds={"year": "numeric"})  # fmt: skip
    assert data.user_meta.kinds == {"age": "numeric", "city": "categorical"}
    assert data.user_meta["city"].tolist() == ["Lyon", "Paris"] and np.isnan(data.user_meta["age"][0])
    assert data.item_meta.kinds == {"tags": "multi_hot", "year": "numeric"}
    assert data.item_meta["year"].tolist() == [1857.0, 1951.0]
    report = data.info["user_features"]
    assert (report.matched, report.dropped, report.filled) == (2, 1, 0)
    with pytest.raises(DataError, match="not in the data.*extra_ids='drop'"):
        from_csv(ratings, string_ids=True, user_features=users, extra_ids="raise")
    with pytest.raises(TypeError, match="must be the path of a feature file"):
        from_csv(ratings, string_ids=True, user_features={"age": [1, 2]})
