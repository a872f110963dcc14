"""Popularity, BaselineOnly, BiasedMF, BPRMF and ImplicitALS in the recommender contract (small, fast)."""

import numpy as np

from tinyrec.data.interactions import Interactions
from tinyrec.errors import DataError
from tinyrec.models import BPRMF, BaselineOnly, BiasedMF, ImplicitALS, Popularity

from .contract import BACKEND, VERBOSE, RecommenderCase

F64 = np.float64
NAN, INF = float("nan"), float("inf")
NO_TWIN = (dict(backend="numpy"), ValueError, "backend must be one of")  # no NumPy twin of its kernels

CASES = [
    RecommenderCase("Popularity", Popularity),
    RecommenderCase("Popularity-implicit", Popularity, feedback="implicit"),
    RecommenderCase(
        "BaselineOnly-als",
        BaselineOnly,
        dict(method="als"),
        changes=dict(method="sgd", n_epochs=1, reg_u=1.0, reg_i=1.0),
        unchanged=dict(backend=BACKEND),
        refusals=[
            (dict(method="newton"), ValueError, "method"),
            (dict(n_epochs=-1), ValueError, "n_epochs"),
            (dict(reg_u=-1.0), ValueError, "reg_u"),
            (dict(dtype=np.int32), TypeError, "dtype"),
            NO_TWIN,
        ],
    ),
    RecommenderCase(
        "BaselineOnly-sgd",
        BaselineOnly,
        dict(method="sgd"),
        changes=dict(reg=0.5, lr=0.05, shuffle=False, seed=1, dtype=F64),
    ),
    RecommenderCase(
        "BiasedMF",
        BiasedMF,
        dict(n_factors=4, n_epochs=10, lr_all=0.02),
        changes=dict(
            n_factors=3,
            n_epochs=4,
            biased=False,
            lr_all=0.05,
            reg_all=0.5,
            lr_bu=0.05,
            lr_bi=0.05,
            lr_pu=0.05,
            lr_qi=0.05,
            reg_bu=0.5,
            reg_bi=0.5,
            reg_pu=0.5,
            reg_qi=0.5,
            init_mean=0.1,
            init_std=0.3,
            shuffle=False,
            n_blocks=2,
            seed=1,
            dtype=F64,
        ),
        unchanged=dict(backend=BACKEND, verbose=VERBOSE),
        refusals=[
            (dict(n_factors=-1), ValueError, "n_factors"),
            (dict(n_epochs=2.5), ValueError, "n_epochs"),
            (dict(lr_all=-0.1), ValueError, "lr_all"),
            (dict(reg_qi=NAN), ValueError, "reg_qi"),
            (dict(seed="abc"), TypeError, "seed"),  # refused at construction: fit is never reached
            *[(dict(n_blocks=bad), ValueError, "n_blocks") for bad in (0, -2, 1.5, True)],
            *[(dict(shuffle=bad), TypeError, "shuffle must be True or False") for bad in ("users", 1)],
            *[
                (dict(init_mean=bad), ValueError, "init_mean must be a finite number")
                for bad in (NAN, INF, None, "0")
            ],
            (dict(seed=-1), ValueError, "seed must be a non-negative int"),  # at construction, not at fit
            NO_TWIN,
        ],
    ),
    RecommenderCase("BiasedMF-blocked", BiasedMF, dict(n_factors=4, n_epochs=10, lr_all=0.02, n_blocks=3)),
    RecommenderCase(
        "BiasedMF-unbiased-f64", BiasedMF, dict(n_factors=3, n_epochs=5, biased=False, dtype=F64)
    ),
    RecommenderCase(
        "BPRMF",
        BPRMF,
        dict(n_factors=4, n_epochs=5),
        feedback="implicit",
        changes=dict(
            n_factors=3,
            n_epochs=4,
            lr=0.1,
            reg=0.2,
            reg_bias=0.5,
            item_bias=False,
            init_std=0.3,
            seed=1,
            dtype=F64,
        ),
        unchanged=dict(backend=BACKEND, verbose=VERBOSE),
        refusals=[
            (dict(n_factors=-2), ValueError, "n_factors"),
            (dict(lr=INF), ValueError, "lr"),
            (dict(reg_bias=-1.0), ValueError, "reg_bias"),
        ],
        fit_refusals=[
            (Interactions([0, 0, 1], [0, 1, 0], n_items=2), DataError, "every item"),  # user 0: no negative
        ],
    ),
    RecommenderCase(
        "ImplicitALS",
        ImplicitALS,
        dict(n_factors=4, n_epochs=3),
        feedback="implicit",
        changes=dict(
            n_factors=3, n_epochs=2, alpha=2.0, reg=1.0, cg_steps=1, init_std=0.3, seed=1, dtype=F64
        ),
        unchanged=dict(backend=BACKEND, verbose=VERBOSE),
        refusals=[(dict(cg_steps=0), ValueError, "cg_steps"), (dict(alpha=-1.0), ValueError, "alpha")],
        fit_refusals=[
            (Interactions([0, 0], [1, 1], n_items=3), DataError, "repeats"),
            (Interactions([0, 1], [0, 1], [1.0, -2.0]), DataError, "non-negative"),
        ],
    ),
]
