"""An exited household's support during the buffer after exit, as of 2019 and as of 2021.

The buffer pack keeps the measures a household held on its exit date: at their exit amounts
during the campaign (to 2020), at the amounts of the day during the 2021-2025 transition.  The
amounts held at exit come from the example registry's support history: synthetic (示例数据), not
policy values (examples/registry/README.md).

    python examples/buffer_support.py                       # the first registry household that has some
    python examples/buffer_support.py examples/registry/households.jsonl 621126-0012
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import gspolicy

REGISTRY = Path(__file__).parent / "registry" / "households.jsonl"
DATES = ("2019-06-30", "2021-06-30")


def read_jsonl(
    path: Path, policies: gspolicy.Policies, limit: int | None = None
) -> Iterator[gspolicy.Record]:
    """Validate the households of a JSON Lines file one line at a time, up to `limit`.

    `gspolicy.load_households` does the same with file locations in its messages, but it currently
    re-parses every line to locate it (about 16 ms a household), so a 3,000-household registry takes
    most of a minute to load that way; `Policies.household` validates in well under a millisecond.
    """
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if limit is not None and number > limit:
                return
            if line.strip():
                yield policies.household(json.loads(line))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", nargs="?", type=Path, default=REGISTRY)
    parser.add_argument("household", nargs="?", help="household id (default: the first exited one)")
    args = parser.parse_args(argv)

    policies = gspolicy.load_policies()
    for household in read_jsonl(args.file, policies):
        if args.household not in (None, household["id"]):
            continue
        first = policies.evaluate(household, as_of=DATES[0])
        if args.household is None and (first.buffer is None or not first.buffer.retained):
            continue  # look on for an exited household that kept some support
        lines = [f"household {household['id']}"]
        for as_of in DATES:
            decision = first if as_of == DATES[0] else policies.evaluate(household, as_of=as_of)
            buffer = decision.buffer
            if buffer is None:
                lines.append(f"as of {as_of}: no buffer pack in force")
                continue
            lines.append(f"as of {as_of}: buffer {buffer.status}, basis {buffer.basis}, until {buffer.until}")
            lines.append(f"  {buffer.reason.en}")
            for r in buffer.retained:
                amount = r.amount if r.amount is not None else "unknown"
                unit = f" {r.unit}" if r.unit else ""
                held = f"held {r.held_from} .. {r.held_until or 'open'}"
                lines.append(f"  {r.measure}: {amount}{unit} (at exit {r.amount_at_exit}; {held})")
        sys.stdout.write("\n".join(lines) + "\n")
        return 0
    sys.stderr.write(f"no {'household ' + args.household if args.household else 'exited household'} found\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
