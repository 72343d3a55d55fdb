"""What statistics count: every case except drills (practice cases, `/drill`).

Digests, /stats, exports, the per-day rollups (and so the evidence report) and pattern
alerts all filter with ``COUNTED``, so a practice case can never turn up in a figure, a
chart, an export row, a report or a pattern alert."""

from __future__ import annotations

from models.cases import Case  # not `models`: rollups import this while it loads

COUNTED = Case.drill.is_(False)
