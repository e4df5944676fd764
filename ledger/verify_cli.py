"""``tradeloom ledger verify BUNDLE.json [--file F] [--key VERIFIER_KEY]``: check evidence offline.

Exit status: 0 when every check holds, 1 when any check fails, 2 when the inputs cannot be read.
Imports nothing from the database or server side, so it runs anywhere the package is installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger.verify import CheckStatus, VerificationReport, verify_bundle

EXIT_VERIFIED = 0
EXIT_NOT_VERIFIED = 1
EXIT_UNREADABLE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradeloom ledger verify",
        description="Verify an evidence bundle offline: entry, inclusion proof, signed checkpoint.",
    )
    parser.add_argument("bundle", type=Path, help="the evidence bundle (JSON)")
    parser.add_argument("--file", type=Path, help="the original file, checked against the salted digest")
    parser.add_argument(
        "--key",
        metavar="VERIFIER_KEY",
        help="the log's verifier key from a trusted source (<name>+<key id>+<base64 key>)",
    )
    return parser


def print_report(report: VerificationReport) -> None:
    for check in report.checks:
        print(f"[{check.status.value:^7}] {check.name.value}: {check.message}")
    if report.ok:
        print("VERIFIED: every check holds")
    else:
        not_ok = [check.name.value for check in report.checks if check.status is not CheckStatus.OK]
        print(f"NOT VERIFIED: {', '.join(not_ok)}")


def main(argv: list[str] | None = None) -> int:
    """Run the verification and return the exit status."""
    arguments = build_parser().parse_args(argv)
    try:
        bundle_json = arguments.bundle.read_bytes()
        if arguments.file is None:
            report = verify_bundle(bundle_json, pinned_key=arguments.key)
        else:
            with arguments.file.open("rb") as file:
                report = verify_bundle(bundle_json, pinned_key=arguments.key, file=file)
    except OSError as error:
        print(f"cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_UNREADABLE
    print_report(report)
    return EXIT_VERIFIED if report.ok else EXIT_NOT_VERIFIED


if __name__ == "__main__":
    sys.exit(main())
