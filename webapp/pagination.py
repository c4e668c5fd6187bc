"""Page arithmetic shared by the HTML pages and the JSON API."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MAX_PER_PAGE", "Pagination", "page_number"]

MAX_PER_PAGE = 100


def page_number(raw: str | None) -> int:
    """The 1-based page asked for; anything unreadable or below 1 is page 1."""
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@dataclass(frozen=True)
class Pagination:
    page: int
    per_page: int
    total: int
    total_exact: bool = True  # False: at least `total` (the index stopped counting)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def total_text(self) -> str:
        """The total as shown: 1734+ when it is a lower bound."""
        return f"{self.total}{'' if self.total_exact else '+'}"

    def as_json(self) -> dict[str, int | bool]:
        return {
            "page": self.page,
            "per_page": self.per_page,
            "total": self.total,
            "pages": self.pages,
            "has_prev": self.has_prev,
            "has_next": self.has_next,
            "total_exact": self.total_exact,
        }
