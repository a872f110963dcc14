# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 01 — Backpropagation by hand
#
# A neural network is a chain of functions, and training needs the gradient of one number, the
# loss, with respect to every weight. Backpropagation is the chain rule applied from the loss
# backwards: each layer receives `dY` (the gradient of the loss with respect to its output)
# and returns `dX` (the gradient with respect to its input), adding the gradients of its own
# weights along the way. No autograd tape is involved: every layer of tinyrec writes its
# `backward` by hand, and in this tutorial so do we.
#
# We will
#
# 1. derive and code the forward and backward pass of a **Linear** layer, a **ReLU**, and the
#    **binary cross-entropy with logits** loss, in plain NumPy;
# 2. check each derivation numerically with `tinyrec.gradcheck`, and check that our numbers
#    equal tinyrec's own layers with `np.allclose`;
# 3. train a small multi-layer perceptron with `tinyrec.train.fit` on a toy click-prediction
#    task;
# 4. and then it is your turn: write `Tanh.backward`, and check it with `tinyrec.exercises`.
#
# Notation: `X : (batch, in_features)` is a mini-batch of inputs, one row per example;
# `dY`, `dX`, `dW` always mean ∂ℒ/∂Y, ∂ℒ/∂X, ∂ℒ/∂W for the scalar loss `ℒ`, and each has the
# shape of the array it is the gradient of.
#
# Run it as a notebook (`jupytext --to notebook`), or as a script after installing tinyrec
# (`pip install -e .` in the repository): `python tutorials/01_backprop_by_hand.py`.

# %%
import numpy as np

import tinyrec
import tinyrec.exercises
from tinyrec.gradcheck import check_loss, check_module, numerical_gradient, relative_error
from tinyrec.losses import BCEWithLogitsLoss
from tinyrec.nn import Linear, Module, ReLU, Sequential, Sigmoid
from tinyrec.optim import Adam
from tinyrec.train import fit

rng = np.random.default_rng(0)
print("tinyrec", tinyrec.__version__)

# %% [markdown]
# ## 1. The Linear layer
#
# Forward, with `W : (out, in)` and `b : (out,)` (torch's layout):
#
# $$Y = X W^\top + b, \qquad Y_{ro} = \sum_i X_{ri} W_{oi} + b_o .$$
#
# Backward. `L` depends on `W_{oi}` through every `Y_{ro}` (one per row `r`), and
# ∂Y_{ro}/∂W_{oi} = X_{ri}, so by the chain rule
#
# $$\frac{\partial L}{\partial W_{oi}} = \sum_r dY_{ro} X_{ri}
#   \quad\Longrightarrow\quad dW = dY^\top X \quad (out, batch) @ (batch, in).$$
#
# The bias is added to every row, so its gradient sums over rows: `db = Σ_r dY[r]`.
# Each input `X_{ri}` reaches every output `Y_{ro}` of its row with weight `W_{oi}`:
#
# $$dX_{ri} = \sum_o dY_{ro} W_{oi} \quad\Longrightarrow\quad dX = dY\,W \quad (batch, out) @ (out, in).$$
#
# A useful sanity check: each gradient has the shape of its array, and there is only one way
# to multiply the available matrices to get that shape.


# %%
def linear_forward(X, W, b):
    return X @ W.T + b


def linear_backward(dY, X, W):
    """Return dX, dW, db for Y = X Wᵀ + b."""
    dX = dY @ W  # (batch, out) @ (out, in) -> (batch, in)
    dW = dY.T @ X  # (out, batch) @ (batch, in) -> (out, in)
    db = dY.sum(axis=0)  # (out,)
    return dX, dW, db


X = rng.standard_normal((5, 4))
W = rng.standard_normal((3, 4))
b = rng.standard_normal(3)
dY = rng.standard_normal((5, 3))  # any fixed dY: it is the gradient of ℒ = Σ Y ⊙ dY
dX, dW, db = linear_backward(dY, X, W)

# %% [markdown]
# **Checking the derivation numerically.** Take the scalar `ℒ = Σ Y ⊙ G` for a fixed random
# `G`: then ∂ℒ/∂Y = G exactly, so feeding `dY = G` to our backward must give ∂ℒ/∂X, ∂ℒ/∂W and
# ∂ℒ/∂b. The central difference `(ℒ(θ + ε) − ℒ(θ − ε)) / 2ε` approximates each of them to
# about 1e-10 (in float64), so a correct derivation agrees to ~1e-8 and a wrong one at order 1.
# `tinyrec.gradcheck.numerical_gradient(f, x)` perturbs `x` in place, entry by entry.


# %%
def L():
    return np.sum(linear_forward(X, W, b) * dY)


for name, analytic, array in [("dX", dX, X), ("dW", dW, W), ("db", db, b)]:
    err = relative_error(analytic, numerical_gradient(L, array))
    print(f"Linear {name}: relative error {err:.1e}")
    assert err < 1e-6

# %% [markdown]
# And the same numbers as tinyrec's own `Linear` (built in float64, with our weights copied in).
# Its `backward` returns `dX` and *accumulates* `dW`, `db` into `weight.grad`, `bias.grad`.

# %%
layer = Linear(4, 3, dtype=np.float64, seed=0)
layer.weight.data[...] = W
layer.bias.data[...] = b
assert np.allclose(layer(X), linear_forward(X, W, b))
assert np.allclose(layer.backward(dY), dX)
assert np.allclose(layer.weight.grad, dW) and np.allclose(layer.bias.grad, db)
print("tinyrec.nn.Linear agrees with the hand-written version")
print(check_module(Linear(4, 3, dtype=np.float64, seed=0), X))

# %% [markdown]
# ## 2. ReLU
#
# Forward `Y = max(X, 0)`, element-wise. Each output depends only on its own input, with slope
# 1 where `X > 0` and 0 elsewhere, so the backward pass is a mask:
#
# $$dX = dY \odot [X > 0].$$
#
# At exactly `X = 0` ReLU has no derivative; like torch we use 0. (Numerical checks should
# therefore avoid inputs at 0, which random normal inputs do with probability 1.)


# %%
def relu_forward(X):
    return np.maximum(X, 0.0)


def relu_backward(dY, X):
    return dY * (X > 0)


dY_relu = rng.standard_normal(X.shape)
err = relative_error(
    relu_backward(dY_relu, X), numerical_gradient(lambda: np.sum(relu_forward(X) * dY_relu), X)
)
print(f"ReLU dX: relative error {err:.1e}")
relu = ReLU()
assert np.allclose(relu(X), relu_forward(X)) and np.allclose(
    relu.backward(dY_relu), relu_backward(dY_relu, X)
)

# %% [markdown]
# ## 3. Binary cross-entropy with logits
#
# A click model outputs a **logit** `x` (any real number); the click probability is
# `p = σ(x) = 1 / (1 + e^{−x})`. For a label `y ∈ {0, 1}` the loss is the negative
# log-likelihood
#
# $$\ell = -\,[\,y \log σ(x) + (1 - y) \log(1 - σ(x))\,].$$
#
# Computing `σ(x)` first and then its log fails for large logits: `σ(40)` rounds to exactly 1
# in float64 and `log(1 − 1) = −inf`. Use `log σ(x) = −log(1 + e^{−x})` and
# `log(1 − σ(x)) = −x − log(1 + e^{−x})`:
#
# $$\ell = (1 - y)\,x + \log(1 + e^{-x}) = \max(x, 0) - x y + \log(1 + e^{-|x|}),$$
#
# where the last form (the same value, rearranged for `x < 0`) never exponentiates a positive
# number. Its derivative is short:
#
# $$\frac{\partial \ell}{\partial x} = (1 - y) - \frac{e^{-x}}{1 + e^{-x}}
#   = (1 - y) - (1 - σ(x)) = σ(x) - y.$$
#
# With `reduction="mean"` over `n` elements, `ℒ = (1/n) Σ ℓ_i` and `dx_i = (σ(x_i) − y_i) / n`.


# %%
def bce_with_logits_forward(x, y):
    return np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))))


def sigmoid(x):
    e = np.exp(-np.abs(x))  # e^(-x) for x >= 0, e^(x) for x < 0: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def bce_with_logits_backward(x, y):
    return (sigmoid(x) - y) / x.size  # the 1/n of the mean reduction


logits = 3 * rng.standard_normal((6, 1))
labels = (rng.random((6, 1)) < 0.5).astype(np.float64)
err = relative_error(
    bce_with_logits_backward(logits, labels),
    numerical_gradient(lambda: bce_with_logits_forward(logits, labels), logits),
)
print(f"BCE-with-logits dx: relative error {err:.1e}")

assert np.allclose(sigmoid(logits), Sigmoid()(logits))
loss = BCEWithLogitsLoss()
assert np.isclose(loss(logits, labels), bce_with_logits_forward(logits, labels))
assert np.allclose(loss.backward(), bce_with_logits_backward(logits, labels))
print(check_loss(BCEWithLogitsLoss(), logits, labels))

extreme = np.array([[-1e4], [1e4]])
print("loss at logits ±1e4:", bce_with_logits_forward(extreme, np.array([[1.0], [0.0]])), "(finite, = 1e4)")

# %% [markdown]
# ## 4. A whole network: the chain rule, layer by layer
#
# A two-layer perceptron `logit = Linear₂(ReLU(Linear₁(X)))` runs its backward in reverse:
# the loss gives `d logit`, `Linear₂.backward` turns it into `dH`, `ReLU.backward` into `dZ`,
# and `Linear₁.backward` into `dX`. `Sequential` does exactly this loop, and
# `check_module` checks every weight of the whole network at once.

# %%
mlp = Sequential(
    Linear(4, 8, dtype=np.float64, seed=1), ReLU(), Linear(8, 1, dtype=np.float64, seed=2)
)
report = check_module(mlp, X)
print(report)
report.assert_ok(1e-6)

# %% [markdown]
# ## 5. Training an MLP to predict clicks
#
# A toy click log: each impression has four standardized features — say the user's affinity
# for the item's category, the item's price, its position on the page, and the hour of day.
# The true click probability depends on them **non-linearly**: affinity matters more for cheap
# items (an interaction `x₀ x₁`), and clicks fall away from a sweet-spot position (`|x₂|`);
# the hour does nothing.
#
# $$P(\text{click}) = σ(-3\,x_0 x_1 - 2\,|x_2| + 1.2).$$
#
# A logistic regression (one `Linear` layer) cannot represent either effect; a small MLP can.
# We also print the best accuracy any model could reach — predicting with the true
# probability — to see how close the MLP gets.

# %%
data_rng = np.random.default_rng(42)
n = 6000
features = data_rng.standard_normal((n, 4)).astype(np.float32)
true_logit = -3 * features[:, 0] * features[:, 1] - 2 * np.abs(features[:, 2]) + 1.2
clicks = (data_rng.random(n) < 1 / (1 + np.exp(-true_logit))).astype(np.float32)[:, None]  # (n, 1)
X_train, y_train, X_test, y_test = features[:5000], clicks[:5000], features[5000:], clicks[5000:]

chance = max(y_test.mean(), 1 - y_test.mean())  # always predicting the majority class
bayes = np.mean((true_logit[5000:] > 0) == (y_test[:, 0] == 1))


def accuracy(y_true, logits):
    return float(np.mean((logits > 0) == (y_true == 1)))


def train(model, epochs):
    return fit(
        model,
        BCEWithLogitsLoss(),
        Adam(model.parameters(), lr=0.003),
        X_train,
        y_train,
        epochs=epochs,
        batch_size=64,
        validation_data=(X_test, y_test),
        metrics={"accuracy": accuracy},
        seed=0,
        verbose=False,
    )


mlp = Sequential(Linear(4, 32, seed=0), ReLU(), Linear(32, 32, seed=1), ReLU(), Linear(32, 1, seed=2))
untrained = mlp(X_test)
print(
    f"epoch  0  (untrained)            test loss {BCEWithLogitsLoss()(untrained, y_test):.4f}  "
    f"test accuracy {accuracy(y_test, untrained):.3f}"
)
history = train(mlp, epochs=15)
for epoch, (tr, va, acc) in enumerate(
    zip(history.train_loss, history.val_loss, history.metrics["accuracy"], strict=True), start=1
):
    print(f"epoch {epoch:2d}  train loss {tr:.4f}  test loss {va:.4f}  test accuracy {acc:.3f}")

logistic = train(Sequential(Linear(4, 1, seed=0)), epochs=15)
mlp_acc = history.metrics["accuracy"][-1]
print(f"\nmajority class (chance)  {chance:.3f}")
print(f"logistic regression      {logistic.metrics['accuracy'][-1]:.3f}")
print(f"MLP                      {mlp_acc:.3f}")
print(f"true probabilities       {bayes:.3f}  (the best any model can do)")
assert history.train_loss[-1] < history.train_loss[0]
assert mlp_acc > chance + 0.05

# %% [markdown]
# ## Your turn: `Tanh.backward`
#
# `tanh` squashes to (−1, 1). Its forward is written below; write its backward.
#
# *Hint:* differentiate `tanh(x) = (e^x − e^{−x}) / (e^x + e^{−x})` with the quotient rule,
# and express the result with `Y = tanh(X)` itself, which `forward` caches (no `exp` needed).
#
# Replace the `raise NotImplementedError` line, then run the next cell. It runs the checks of
# `tinyrec.exercises.tanh_backward` on your class: the shape and dtype of `dX`, its values on
# random inputs, a few properties any right answer has (it scales with `dY`, it is the same at
# `x` and `−x`, it vanishes where tanh is flat, it leaves `dY` alone), and a gradient check
# against central differences. Each line of the report says whether one check passed and, if
# not, what is wrong, with a hint. While `backward` still raises, the report says so.
#
# The reference solution, with its derivation, is in `tinyrec/exercises/tanh_backward.py`;
# `tinyrec.exercises.show_solution("tanh_backward")` prints it. Try your own first.


# %%
class MyTanh(Module):
    def __init__(self):
        self._y = None

    def forward(self, x):
        self._y = np.tanh(x)
        return self._y

    def backward(self, grad_output):
        y = self._y  # Y = tanh(X), cached by forward
        raise NotImplementedError(f"your turn: return dX {y.shape}, computed from grad_output and y")


# %%
report = tinyrec.exercises.tanh_backward.check(MyTanh)
print(report)

# %% [markdown]
# A wrong backward does not pass. This one treats tanh as the identity, which it nearly is
# close to 0 (`tanh x ≈ x` for small `x`), and returns `dY` unchanged: right at `x = 0`, wrong
# everywhere else. The report names the checks it fails, and why.


# %%
class WrongTanh(MyTanh):
    def backward(self, grad_output):
        return grad_output  # the slope of tanh at 0, used everywhere


wrong = tinyrec.exercises.tanh_backward.check(WrongTanh)
print(wrong)
assert not wrong.ok, "the checks should have rejected WrongTanh"
