"""The exceptions tinyrec raises.

Every error tinyrec raises on bad input is a subclass of :class:`TinyrecError` *and* of the
built-in exception a Python user expects (``ValueError``, ``TypeError``, ``RuntimeError``), so
``except ValueError`` keeps working. Messages name the problem and the fix.
"""


class TinyrecError(Exception):
    """Base class of every tinyrec error."""


class ShapeError(TinyrecError, ValueError):
    """An array has the wrong number of dimensions or the wrong size."""


class DTypeError(TinyrecError, TypeError):
    """An array has the wrong dtype (e.g. float64 input to a float32 layer)."""


class IndexOutOfRangeError(TinyrecError, ValueError):
    """An integer index (user, item, embedding row, class) is outside its valid range."""


class NonFiniteError(TinyrecError, ValueError):
    """NaN or inf where finite numbers are required (data, loss, gradients)."""


class BackwardBeforeForwardError(TinyrecError, RuntimeError):
    """``backward`` was called on a module or loss whose ``forward`` has not run."""


class NotFittedError(TinyrecError, RuntimeError):
    """A model was used before ``fit`` (or ``load``)."""


class DataError(TinyrecError, ValueError):
    """A data file or data set is malformed, empty, corrupt or missing."""


class ModelFileError(TinyrecError, ValueError):
    """A model file is truncated, corrupt, or from another format version."""


class ModelFileWriteError(ModelFileError, OSError):
    """Writing a model file failed (full disk, quota, read-only folder): a ModelFileError and an OSError."""


class ArgumentTypeError(TinyrecError, TypeError, ValueError):
    """An argument of the wrong type (``lr=None``, ``n_epochs=2.5``, ``verbose="no"``).

    A ``TypeError`` as Python's convention asks, and a ``ValueError`` too, so that one
    ``except ValueError`` catches every bad hyperparameter, whatever was wrong with it.
    """


class AllocationError(TinyrecError, ValueError, MemoryError):
    """A request (a file, a hyperparameter) for more memory than tinyrec's bound allows.

    A ``ValueError`` (the request is a bad value) and a ``MemoryError`` (what it would have caused);
    see :mod:`tinyrec.limits` for the bound and how to raise it.
    """
