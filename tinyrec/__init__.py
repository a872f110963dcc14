"""tinyrec: a from-scratch NumPy + Numba framework for learning, teaching and checking
neural recommender systems.

Every layer has an explicit ``forward`` and ``backward``; every gradient is checked numerically.
"""

__version__ = "0.1.0"

from . import errors, gradcheck, nn  # noqa: E402

__all__ = ["__version__", "errors", "gradcheck", "nn"]
