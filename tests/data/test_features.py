"""Feature tables: kinds, the missing-value rule, alignment with the ids, feature files, splits."""

import warnings

import numpy as np
import pytest

from tinyrec.data import Column, FeatureTable, Interactions
from tinyrec.data.features import AlignmentReport, align_records, infer_kind, is_missing, read_feature_file
from tinyrec.data.preprocess import reindex
from tinyrec.data.split import random_holdout
from tinyrec.errors import ArgumentTypeError, DataError, DTypeError, NonFiniteError, ShapeError


def small_data():
    """4 users, 3 items; user 3 and item 2 have one interaction each."""
    users, items = np.array([0, 0, 1, 1, 2, 3, 2]), np.array([0, 1, 0, 1, 1, 2, 0])
    return Interactions(
        users,
        items,
        np.arange(1.0, 8.0) % 5 + 1,
        user_meta={"age": [25, 31, np.nan, 47], "gender": ["F", "M", "", "F"]},
        item_meta={"genres": ["Action|Comedy", "Drama", ""], "title": ["a", "b", "c"]},
    )


# ------------------------------------------------------------------ kinds and the missing rule
def test_kinds_are_inferred_by_the_documented_rule():
    assert infer_kind(np.array([1.0, np.nan])) == "numeric"
    assert infer_kind(np.array([3, 4])) == "numeric"
    assert infer_kind(np.array(["F", "M"])) == "categorical"
    assert infer_kind(np.array(["Action|Comedy", "Drama"])) == "multi_hot"
    table = small_data().item_meta
    assert table.kinds == {"genres": "multi_hot", "title": "categorical"}
    typed = FeatureTable.from_arrays({"title": ["a", "b"]}, kinds={"title": "text"})
    assert typed.kinds == {"title": "text"} and typed.n_rows == 2


def test_missing_values_by_kind():
    assert is_missing(np.array([1.0, np.nan]), "numeric").tolist() == [False, True]
    text = np.array(["", " NA ", "n/a", "null", "nan", "none", "x"], dtype=object)
    assert is_missing(text, "categorical").tolist() == [True, True, True, True, True, False, False]
    assert is_missing(np.array([None, "a"], dtype=object), "multi_hot").tolist() == [True, False]
    assert not is_missing(np.array([0, 3]), "categorical").any()  # integer codes are never missing


def test_a_numeric_column_refuses_text_and_inf_naming_the_fix():
    with pytest.raises(DTypeError, match="numbers only.*declare the column categorical"):
        Column(np.array(["25", "thirty"]), "numeric")
    with pytest.raises(DTypeError, match="'thirty'"):
        Column(np.array([25, "thirty"], dtype=object), "numeric")
    with pytest.raises(NonFiniteError, match="inf is not a missing value"):
        Column(np.array([1.0, np.inf]), "numeric")
    column = Column(np.array([1, None, 3], dtype=object), "numeric")  # None: missing, as NaN
    assert column.missing().tolist() == [False, True, False]


def test_bad_columns_and_tables_are_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        Column(np.array([1.0]), "ordinal")
    with pytest.raises(ValueError, match="encoding must be one of"):
        Column(np.array([1.0]), "numeric", encoding="log")
    with pytest.raises(ShapeError, match="1-D"):
        Column(np.zeros((2, 2)), "numeric")
    with pytest.raises(ShapeError, match="different lengths"):
        FeatureTable({"a": Column(np.zeros(2), "numeric"), "b": Column(np.zeros(3), "numeric")})
    with pytest.raises(KeyError, match="does not have"):
        FeatureTable.from_arrays({"a": [1.0]}, kinds={"b": "numeric"})
    with pytest.raises(ValueError, match="length|rows"):
        Interactions([0, 1], [0, 1], user_meta={"age": [1.0, 2.0, 3.0]})


def test_a_table_is_a_read_only_mapping_with_typed_columns():
    table = small_data().user_meta
    assert list(table) == ["age", "gender"] and len(table) == 2 and table.n_rows == 4
    assert table["gender"][0] == "F" and table.column("age").kind == "numeric"
    with pytest.raises(ValueError):
        table["age"][0] = 3.0  # read-only
    with pytest.raises(KeyError, match="the columns are"):
        table.column("zip")
    assert "4 rows" in repr(table) and "age: numeric" in repr(table)
    assert FeatureTable() == {}


# ------------------------------------------------------------------ aligned with the ids, kept through splits
def test_splits_and_subsets_share_the_tables_of_the_index_space():
    data = small_data()
    train, test = random_holdout(data, 0.3, seed=0, drop_unseen=False)
    assert train.user_meta is data.user_meta and test.item_meta is data.item_meta
    assert data.subset([0, 1]).user_meta is data.user_meta


def test_reindex_takes_the_rows_of_the_kept_ids_keeping_kinds_and_hints():
    age = Column(np.array([25.0, 31.0, np.nan, 47.0]), "numeric", encoding="bucket", edges=(18, 35))
    data = Interactions([1, 3], [0, 0], user_meta=FeatureTable({"age": age}), n_users=4)
    small = reindex(data)
    assert small.n_users == 2 and small.user_meta["age"].tolist() == [31.0, 47.0]
    kept = small.user_meta.column("age")
    assert kept.encoding == "bucket" and kept.edges == (18.0, 35.0)


def test_with_meta_replaces_only_the_tables():
    data = small_data()
    new = data.with_meta(user_meta={"score": [1.0, 2.0, 3.0, 4.0]})
    assert list(new.user_meta) == ["score"] and new.item_meta is data.item_meta
    assert np.array_equal(new.users, data.users)
    with pytest.raises(ValueError, match="length|rows"):
        data.with_meta(item_meta={"score": [1.0]})


# ------------------------------------------------------------------ feature files
def write(tmp_path, text, name="users.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_feature_file_is_aligned_with_the_ids_by_text(tmp_path):
    path = write(tmp_path, "user_id,age,gender,genres\n3,47,F,a|b\n1,25,M,\n2,,F,c\n")
    table, report = read_feature_file(path, np.array([1, 2, 3]))
    assert table.kinds == {"age": "numeric", "gender": "categorical", "genres": "multi_hot"}
    assert table["gender"].tolist() == ["M", "F", "F"]  # dense order, not file order
    assert np.isnan(table["age"][1]) and table["age"][0] == 25.0  # an empty number: missing (NaN)
    assert (report.n_rows, report.matched, report.filled, report.dropped) == (3, 3, 0, 0)


def test_missing_and_extra_ids_are_counted_never_silent(tmp_path):
    path = write(tmp_path, "id,gender\n1,F\n9,M\n")
    with pytest.warns(UserWarning, match="1 ids of the data have no row.*1 rows name ids not in the data"):
        table, report = read_feature_file(path, np.array([1, 2]))
    assert (report.matched, report.filled, report.dropped) == (1, 1, 1)
    assert report.examples == {"filled": [2], "dropped": ["9"]}
    assert table["gender"].tolist() == ["F", ""]
    assert table.column("gender").missing().tolist() == [False, True]
    with pytest.raises(DataError, match="have no row.*missing_ids='fill'"):
        read_feature_file(path, np.array([1, 2]), missing_ids="raise", extra_ids="drop")
    with pytest.raises(DataError, match="not in the data.*extra_ids='drop'"):
        read_feature_file(path, np.array([1, 2]), extra_ids="raise")


def test_a_numeric_column_with_text_names_the_value_and_the_line(tmp_path):
    path = write(tmp_path, "id,age\n1,25\n2,31\n3,33\n4,41\n5,29\n6,52\n7,38\n8,45\n9,27\n10,22\n11,thirty\n")
    ids = np.arange(1, 12)
    with pytest.raises(DataError, match="'thirty'.*declare the column's kind"):
        read_feature_file(path, ids)
    with pytest.raises(DataError, match="'thirty' \\(line 12\\)"):
        read_feature_file(path, ids, kinds={"age": "numeric"})
    table, _ = read_feature_file(path, ids, kinds={"age": "categorical"})
    assert table["age"][-1] == "thirty"
    with pytest.raises(ArgumentTypeError, match="kinds must be a dict"):
        read_feature_file(path, ids, kinds=["age"])


def test_bad_feature_files_are_clear_errors(tmp_path):
    ids = np.array([1, 2])
    with pytest.raises(DataError, match="no such feature file"):
        read_feature_file(tmp_path / "absent.csv", ids)
    with pytest.raises(DataError, match="header line and at least one row"):
        read_feature_file(write(tmp_path, "id,age\n"), ids)
    with pytest.raises(DataError, match="line 3: 3 fields"):
        read_feature_file(write(tmp_path, "id,age\n1,2\n2,3,4\n"), ids)
    with pytest.raises(DataError, match="has a row already \\(line 2\\)"):
        read_feature_file(write(tmp_path, "id,age\n1,2\n1,3\n"), ids)
    with pytest.raises(DataError, match="no id column 'user'"):
        read_feature_file(write(tmp_path, "id,age\n1,2\n"), ids, id_column="user")
    with pytest.raises(NonFiniteError, match="inf is not a missing value"):
        read_feature_file(write(tmp_path, "id,age\n1,inf\n2,3\n"), ids, kinds={"age": "numeric"})


def test_align_records_keeps_declared_hints_and_checks_its_modes():
    kinds = {"age": Column(np.zeros(0), "numeric", encoding="bucket", edges=(30,)), "city": "categorical"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every id has a record: nothing to warn about
        table, report = align_records(np.array(["a", "b"]), {"b": {"age": "40"}, "a": {"city": "x"}}, kinds)
    assert np.isnan(table["age"][0]) and table["age"][1] == 40.0
    assert table.column("age").edges == (30.0,) and table["city"].tolist() == ["x", ""]
    assert isinstance(report, AlignmentReport) and "2 ids matched" in str(report)
    with pytest.raises(ValueError, match="missing_ids must be one of"):
        align_records(np.array(["a"]), {}, kinds, missing_ids="skip")
