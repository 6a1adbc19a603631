"""Helpers for the monitor tests: event lines and small household records."""

from __future__ import annotations

import json
from typing import Any

EXAMPLE_KINDS = ("risk", "exit_failing", "batch", "buffer", "excluded")


def household(
    *,
    size: int = 2,
    zone: bool = False,
    grade: str = "b",
    insured: bool | None = True,
    food: bool | None = None,
    water: dict[str, Any] | None = None,
    child_born: str | None = None,
) -> dict[str, Any]:
    """A small household record; `child_born` gives member m2 a birth date (a school-age child)."""
    members: list[dict[str, Any]] = []
    for i in range(1, size + 1):
        member: dict[str, Any] = {"id": f"m{i}", "health": "healthy"}
        if insured is not None:
            member["basic_medical_insurance"] = insured
        if i == 2 and child_born is not None:
            member.update(relation="child", birth_date=child_born, dropped_out=False)
        members.append(member)
    record: dict[str, Any] = {
        "size": size,
        "registration": {"category": "general"},
        "housing": {"grade": grade, "relocation": "none"},
        "location": {"relocation_zone": zone},
        "social": {"rigid_spending": 1000},
        "members": members,
    }
    if food is not None:
        record["food_and_clothing_secured"] = food
    if water is not None:
        record["water"] = water
    return record


def line(date: str, kind: str, hh: str | None = "h1", **fields: Any) -> str:
    event: dict[str, Any] = {"date": date, "type": kind, **fields}
    if hh is not None:
        event["household"] = hh
    return json.dumps(event, ensure_ascii=False)
