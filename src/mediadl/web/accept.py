"""Reading ``Accept``-style request headers (``Accept``, ``Accept-Language``)."""

from __future__ import annotations

__all__ = ["quality_list"]


def quality_list(header: str | None) -> list[tuple[str, float]]:
    """The items of an ``Accept``-style header with their q-values, in header order.

    ``"tr-TR,en;q=0.5"`` → ``[("tr-TR", 1.0), ("en", 0.5)]``; a malformed q counts as 0.
    """
    items: list[tuple[str, float]] = []
    for item in (header or "").split(","):
        token, *params = (part.strip() for part in item.split(";"))
        if not token:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        items.append((token, q))
    return items
