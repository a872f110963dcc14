"""``tinyrec reference export|check DIR``: golden vectors for another library's test suite.

``export`` writes every reference case of :mod:`tinyrec.testing.reference` (float64 inputs,
parameters, outputs and gradients of every layer, loss, optimizer and metric, and one training
epoch of BiasedMF and BPR) with a versioned manifest; ``check`` verifies a set's checksums and
re-computes every case within its tolerance. The format is docs/reference_vectors.md. ``check``
exits with status 0 when every case matches and 1 when one does not; a folder without a manifest
is an error (status 2, as every error of the command: see :mod:`tinyrec.cli`).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

from ..testing.reference import SCHEMA_VERSION, check_reference, export_reference
from ..version import __version__

_FORMATTER = argparse.RawDescriptionHelpFormatter


def add_reference_parser(subparsers, parents=()) -> argparse.ArgumentParser:
    """Add ``reference`` (with its actions ``export`` and ``check``) to the command's ``subparsers``.

    ``parents`` are given to each new parser (the command's common options, such as ``--traceback``).
    """
    p = subparsers.add_parser(
        "reference",
        parents=list(parents),
        help="export or check golden vectors (reference values) for another library's tests",
        formatter_class=_FORMATTER,
        description="Golden vectors: float64 inputs, parameters, outputs and gradients of every layer, loss, "
        "optimizer and metric, and one training epoch of BiasedMF and BPR, with a manifest (schema version, "
        "tolerances, SHA-256 per file) that another library's test suite can read "
        "(docs/reference_vectors.md).",
        epilog="examples:\n  tinyrec reference export vectors/\n  tinyrec reference check vectors/ --json",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    export = actions.add_parser(
        "export", parents=list(parents), help="write every reference case and manifest.json into DIR",
        formatter_class=_FORMATTER, epilog="example:\n  tinyrec reference export vectors/",
    )  # fmt: skip
    export.add_argument("directory", metavar="DIR", help="the folder to write (created if missing)")
    export.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    export.set_defaults(func=cmd_reference_export)
    check = actions.add_parser(
        "check", parents=list(parents), formatter_class=_FORMATTER,
        help="verify a set's checksums and re-compute every case (exit 1 when one does not match)",
        epilog="examples:\n  tinyrec reference check vectors/\n  tinyrec reference check vectors/ --json",
    )  # fmt: skip
    check.add_argument("directory", metavar="DIR", help="a folder written by `tinyrec reference export`")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    check.set_defaults(func=cmd_reference_check)
    return p


def cmd_reference_export(args) -> int:
    manifest_path = export_reference(args.directory)
    cases = json.loads(manifest_path.read_text(encoding="utf-8"))["cases"]
    kinds = Counter(case["kind"] for case in cases)
    if args.json:
        summary = {"directory": str(args.directory), "manifest": str(manifest_path), "cases": len(cases),
                   "by_kind": dict(kinds), "schema_version": SCHEMA_VERSION, "tinyrec_version": __version__}
        print(json.dumps(summary))
    else:
        by_kind = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        print(f"wrote {len(cases)} reference cases (float64; {by_kind}) and {manifest_path.name} to "
              f"{args.directory}\ncheck them with: tinyrec reference check {args.directory}")  # fmt: skip
    return 0


def cmd_reference_check(args) -> int:
    report = check_reference(args.directory)
    print(json.dumps(report.as_json()) if args.json else str(report))
    return 0 if report.ok else 1
