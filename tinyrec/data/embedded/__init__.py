"""The data set that ships inside tinyrec: MovieTweetings 100K (MIT licence), 5-core filtered.

``tinyrec quickstart`` runs on it with no network and no data folder. The archive holds the
published ``ratings.dat`` and ``movies.dat`` unchanged; they are parsed by the regular loader
(:func:`tinyrec.data.movietweetings`) and filtered by :func:`tinyrec.data.preprocess.k_core`.
See ``PROVENANCE.md`` and ``LICENSE`` in this folder for the source and the attribution.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import DataError

__all__ = ["ARCHIVE", "NAME", "load_embedded"]

#: The compressed snapshot (package data).
ARCHIVE = Path(__file__).with_name("movietweetings-100k.zip")
#: The name outputs use for the embedded data set.
NAME = "movietweetings-100k"


def load_embedded(min_count: int = 5):
    """The embedded MovieTweetings 100K ratings, ``min_count``-core filtered.

    Parameters
    ----------
    min_count : int
        Keep the largest subset in which every user and every movie has at least ``min_count``
        ratings (default 5: 68,055 ratings, 4,333 users, 2,414 movies). 1 keeps everything
        (100,000 ratings, 16,554 users, 10,506 movies).

    Returns
    -------
    Interactions
        Ratings 0..10, Unix timestamps, ``item_meta["title"]`` and ``["genres"]``; raw item ids
        are IMDb ids as 7-digit strings. ``info["name"]`` is ``"movietweetings-100k"`` and
        ``info["core"]`` the ``min_count`` used.

    Raises
    ------
    DataError
        When the archive is missing from the installation (a packaging error: reinstall tinyrec).
    """
    from ..datasets import movietweetings
    from ..preprocess import k_core

    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        raise ValueError(f"min_count must be an int >= 1, got {min_count!r}")
    if not ARCHIVE.is_file():
        raise DataError(
            f"the embedded data set is missing ({ARCHIVE}); reinstall tinyrec with its package data "
            f"(pip install --force-reinstall tinyrec)"
        )
    data = movietweetings(path=ARCHIVE)
    if min_count > 1:
        data = k_core(data, min_count, min_count)
    return data.with_info(name=NAME, core=min_count)
