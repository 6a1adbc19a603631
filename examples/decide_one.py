"""Decide one household as of a date and print the explanation in Chinese and English.

python examples/decide_one.py                                  # the first sample household
python examples/decide_one.py examples/registry/households.jsonl 621126-0012 --as-of 2019-06-30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import gspolicy

EXAMPLES = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", nargs="?", type=Path, default=EXAMPLES / "households.jsonl")
    parser.add_argument("household", nargs="?", help="household id (default: the first in the file)")
    parser.add_argument("--as-of", default="2018-12-31", help="decision date (default: %(default)s)")
    args = parser.parse_args(argv)

    policies = gspolicy.load_policies()  # the bundled packs
    households = gspolicy.load_households(args.file, policies=policies)
    chosen = [h for h in households if args.household in (None, h["id"])]
    if not chosen:
        sys.stderr.write(f"no household `{args.household}` in {args.file}\n")
        return 1
    decision = policies.evaluate(chosen[0], as_of=args.as_of)
    sys.stdout.write(decision.render("zh") + "\n\n" + decision.render("en") + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
