"""Statistics and the markdown summary."""

from __future__ import annotations

import math
import statistics


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of `values`; None when empty."""
    if not values:
        return None
    s = sorted(values)
    k = max(1, math.ceil(p / 100 * len(s)))
    return s[k - 1]


def median(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, digits: int = 0) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if isinstance(v, int) and digits == 0:
        return f"{v:,}"
    return f"{v:,.{digits}f}"


def ratio(a, b) -> str:
    """a/b with two decimals, or three significant digits when it is below 0.1."""
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or b == 0:
        return "—"
    q = a / b
    return f"{q:.2f}×" if q >= 0.1 else f"{q:.2g}×"


class Table:
    """Rows of (metric, relayd, Postfix, ratio, better) rendered as a markdown table."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, str, str]] = []

    def add(self, metric: str, r, p, digits: int = 0, better: str = "", with_ratio: bool = True) -> None:
        self.rows.append((metric, fmt(r, digits), fmt(p, digits),
                          ratio(r, p) if with_ratio else "—", better))

    def section(self, title: str) -> None:
        self.rows.append((f"**{title}**", "", "", "", ""))

    def markdown(self) -> str:
        head = "| metric | relayd | Postfix | relayd / Postfix | better |\n|---|---:|---:|---:|---|\n"
        return head + "".join(f"| {m} | {r} | {p} | {q} | {b} |\n" for m, r, p, q, b in self.rows)
