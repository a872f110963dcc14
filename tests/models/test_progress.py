"""The classic models' ``verbose`` progress line (``tinyrec.progress.EpochBar``) on stderr."""

from __future__ import annotations

import re

import pytest

from tinyrec.models import BPRMF, BiasedMF, ImplicitALS

from .contract import implicit_toy, planted_ratings


@pytest.mark.parametrize(
    "build, data, shown",
    [
        (lambda v: BiasedMF(4, 5, verbose=v, seed=0), "ratings", r" train_rmse \d\.\d{4}"),
        (lambda v: BiasedMF(4, 5, n_blocks=2, verbose=v, seed=0), "ratings", r" train_rmse \d\.\d{4}"),
        (lambda v: BPRMF(4, 5, verbose=v, seed=0), "implicit", r" loss \d\.\d{4}"),
        (lambda v: ImplicitALS(4, 5, verbose=v, seed=0), "implicit", ""),
    ],
)
def test_verbose_draws_one_line_over_the_epochs_and_quiet_draws_nothing(capsys, build, data, shown):
    train = planted_ratings()[0] if data == "ratings" else implicit_toy()[0]
    build(False).fit(train)
    assert capsys.readouterr().err == ""
    model = build(True).fit(train)
    err = capsys.readouterr().err
    # captured stderr is not a terminal: one finished line per epoch, no redraws
    assert re.fullmatch(rf"(epoch [1-4]/5 \[[#.]{{20}}\]{shown}\n){{4}}epoch 5/5 \[#{{20}}\]{shown}\n", err)
    assert model.verbose is True and "verbose=True" in repr(model)


def test_a_diverging_fit_ends_its_progress_line_before_the_error(capsys):
    from tinyrec.errors import NonFiniteError

    train = planted_ratings()[0]
    with pytest.raises(NonFiniteError, match="epoch 3"):  # epoch 1 drew the line
        BiasedMF(4, 30, lr_all=0.5, verbose=True, seed=0).fit(train)
    err = capsys.readouterr().err
    assert err.startswith("epoch 1/30 [") and err.endswith("\n")  # the error starts a line of its own
