"""from_csv and the numeric table reader: columns by index or name, separators, errors with line numbers."""

import numpy as np
import pytest

from tinyrec.data import from_csv
from tinyrec.data.parsing import read_numeric_table
from tinyrec.errors import DataError, NonFiniteError


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
