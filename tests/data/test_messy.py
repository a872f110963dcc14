"""tinyrec.data.messy: the faults it injects are the ones it reports, clean_events finds each of them,
and the rows it keeps are the original ones that were not damaged."""

from __future__ import annotations

import numpy as np
import pytest

from tinyrec.data import Interactions, synthetic
from tinyrec.data.features import FeatureTable, align_records
from tinyrec.data.messy import messy_events, messy_table
from tinyrec.data.preprocess import clean_events
from tinyrec.errors import DataError


def _data(n=2000, seed=0):
    data = synthetic(60, 80, n, seed=seed)
    return data.with_ratings(np.clip(np.round(data.ratings), 1, 5))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_events_finds_exactly_what_was_injected(seed):
    data = _data(seed=seed)
    raw = messy_events(data, missing=0.05, unreadable=0.02, out_of_range=0.02, unknown=0.02, duplicates=0.05,
                       older=0.03, seed=seed)  # fmt: skip
    clean, report = clean_events(raw.users, raw.items, raw.ratings, raw.timestamps, rating_range=(1, 5),
                                 known_users=data.user_ids, known_items=data.item_ids)  # fmt: skip
    report.check_counts()
    for name, before, after in report.steps:
        assert before - after == raw.injected[name], name
    assert len(clean) == len(data) - raw.lost
    kept = set(zip(clean.user_ids[clean.users].tolist(), clean.item_ids[clean.items].tolist(),
                   clean.ratings.tolist(), clean.timestamps.tolist(), strict=True))  # fmt: skip
    original = set(zip(data.user_ids[data.users].tolist(), data.item_ids[data.items].tolist(),
                       data.ratings.tolist(), data.timestamps.tolist(), strict=True))  # fmt: skip
    assert kept <= original and len(kept) == len(clean)
    # the text notes count the rows kept: each original intact row once, not its exact copies too
    notes = dict(report.notes)
    assert (
        notes['ratings read from text, such as " 5 " (rows not dropped)'] == raw.injected["ratings as text"]
    )
    assert notes['ids read from text, such as "196" (rows not dropped)'] == raw.injected["ids as text"]


def test_the_feed_has_mixed_types_and_is_seeded():
    data = _data()
    a, b = messy_events(data, seed=3), messy_events(data, seed=3)
    assert {type(v) for v in a.ratings.tolist()} >= {float, str, type(None)}
    assert {type(v) for v in a.users.tolist()} >= {int, str}
    assert all(np.array_equal(x.astype(str), y.astype(str)) for x, y in
               zip((a.users, a.items, a.ratings, a.timestamps), (b.users, b.items, b.ratings, b.timestamps),
                   strict=True))  # fmt: skip
    new_rows = ("unknown user", "unknown item", "exact duplicate", "older duplicate")
    assert len(a) == len(data) + sum(a.injected[k] for k in new_rows)
    assert set(a.rows([0])[0]) == {"user", "item", "rating", "timestamp"}


def test_messy_events_refuses_data_it_cannot_fault():
    data = _data()
    with pytest.raises(TypeError, match="Interactions"):
        messy_events({"users": [1]})
    with pytest.raises(DataError, match="timestamps"):
        messy_events(data.rebuild(timestamps=None))
    with pytest.raises(ValueError, match="at most 1"):
        messy_events(data, missing=0.8, unreadable=0.3)
    text_ids = Interactions.from_raw(
        np.array([f"u{u}" for u in data.users]), data.items, data.ratings, data.timestamps
    )
    with pytest.raises(DataError, match="needs integer raw ids; these user ids are <U"):
        messy_events(text_ids)
    with pytest.raises(DataError, match=r"duplicates=2.0 and older=0.01 ask for 4,026 new rows.* lower them"):
        messy_events(data, duplicates=2.0)
    raw = messy_events(
        data, unknown=0.1, duplicates=0.45, older=0.4, missing=0.05, unreadable=0, out_of_range=0
    )
    assert len(raw) == len(data) + int(round(0.95 * len(data)))  # every intact row copied once: the limit


def test_messy_table_blanks_encoded_columns_only_and_align_records_reads_it_back():
    meta = {"age": np.arange(200.0), "job": np.array(["a", "b"] * 100), "name": np.array(["n"] * 200)}
    data = synthetic(200, 30, 400, seed=0).with_meta(
        user_meta=FeatureTable.from_arrays(meta, kinds={"name": "text"})
    )
    table = messy_table(data.user_meta, data.user_ids, missing=0.2, seed=1)
    assert table.blanked["name"] == 0 and table.blanked["age"] > 0 and table.blanked["job"] > 0
    assert all(isinstance(v, str) for record in table.records.values() for v in record.values())
    read, alignment = align_records(data.user_ids, table.records, table.kinds)
    assert alignment.matched == 200 and alignment.filled == alignment.dropped == 0
    assert read.column("age").missing().sum() == table.blanked["age"]
    kept = ~read.column("age").missing()
    assert np.array_equal(read["age"][kept], data.user_meta["age"][kept])
    with pytest.raises(ValueError, match="one raw id per row"):
        messy_table(data.user_meta, data.user_ids[:5])
    with pytest.raises(DataError, match=r"no column \['height'\] in the table"):
        messy_table(data.user_meta, data.user_ids, ["age", "height"])
