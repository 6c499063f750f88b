"""Aging: open balances bucketed by age (current, 31-60, 61-90, 91-120, 120+)."""

from __future__ import annotations

import datetime as dt

BUCKETS = ("current", "days_31_60", "days_61_90", "days_91_120", "over_120")
BUCKET_LABELS = {"current": "0-30", "days_31_60": "31-60", "days_61_90": "61-90",
                 "days_91_120": "91-120", "over_120": "120+"}


def bucket_of(age_days: int) -> str:
    """The bucket for an age in days (0-30 is current)."""
    if age_days <= 30:
        return "current"
    if age_days <= 60:
        return "days_31_60"
    if age_days <= 90:
        return "days_61_90"
    if age_days <= 120:
        return "days_91_120"
    return "over_120"


def bucketize(items: list[tuple[dt.date, int]], as_of: dt.date) -> dict[str, int]:
    """Sum ``(date, cents)`` pairs into the five buckets as of ``as_of``."""
    out = dict.fromkeys(BUCKETS, 0)
    for when, cents in items:
        out[bucket_of((as_of - when).days)] += cents
    return out
