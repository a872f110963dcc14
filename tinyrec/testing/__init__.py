"""tinyrec as a reference: checks and numbers another library's tests can use.

* :func:`check_layer` — the layer contract (float64 gradient check of inputs and parameters,
  gradients that accumulate, ``grad_output`` left unchanged, ``zero_grad``, seeded construction,
  the ``state_dict`` round trip, float32 in and out) as one call, on any object with
  ``forward``/``backward``/``parameters()``; its :class:`LayerReport` names each property that
  fails, in words. tinyrec's own layers are held to it (``tests/nn/test_layer_contract.py``).
* :func:`compare_with_torch` — a layer and a torch module on the same weights (copied through
  the state dict, either way), inputs and ``dY``: the largest differences of outputs, input
  gradients, parameter gradients and buffers.
* :func:`check_metric` — runs another library's ranking metric on cases built to tell the
  conventions apart (ties, a user with no relevant item, AP's denominator, graded gains, a list
  shorter than ``k``) and says which setting of :mod:`tinyrec.metrics` it matches, or where it
  matches none (:class:`MetricReport`).
* :mod:`tinyrec.testing.reference` — golden vectors: :func:`export_reference` writes reference
  cases (inputs, parameters, outputs, gradients; float64) of every layer, loss, optimizer and
  metric and one training epoch of BiasedMF and BPR, with a versioned manifest, for another
  library's test suite to load; :func:`check_reference` re-computes a set and verifies its
  checksums (``tinyrec reference export|check DIR``; the format: docs/reference_vectors.md).

This package sits above :mod:`tinyrec.io` in the layering (docs/architecture.md); torch is imported
only inside :func:`compare_with_torch`.
"""

from .layer_contract import PROPERTIES, LayerReport, PropertyResult, check_layer
from .metric_check import MetricReport, check_metric, conformance_cases
from .reference import ReferenceReport, check_reference, export_reference
from .torch_compare import TorchComparison, compare_with_torch

__all__ = [
    "PROPERTIES",
    "LayerReport",
    "MetricReport",
    "PropertyResult",
    "ReferenceReport",
    "TorchComparison",
    "check_layer",
    "check_metric",
    "check_reference",
    "compare_with_torch",
    "conformance_cases",
    "export_reference",
]
