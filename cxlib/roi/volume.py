"""The visit volume a scope's ROI rests on: visits a year, the scope's assumptions and its note."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from cxlib.catalog import Lang, bilingual
from cxlib.errors import require_columns
from cxlib.roi.cases import Case
from cxlib.roi.labels import pair, text
from cxlib.roi.value import DEFAULT_VISITS_PER_YEAR


@dataclass(frozen=True)
class VisitVolume:
    """Visits a year of a report's scope: the selected visits annualised by the days they cover.

    ``per_year = n_visits · 365 / days``, ``days`` from the first to the last arrival day
    (inclusive); ``source`` is ``"data"``, or ``"default"`` (:data:`DEFAULT_VISITS_PER_YEAR`) when
    the selection holds no visit.

        >>> VisitVolume(center="SH-JQ", n_visits=310, days=31, first="2026-10-01", last="2026-10-31").per_year
        3650.0
    """

    center: str
    n_visits: int
    days: int
    first: str | None
    last: str | None
    source: str = "data"

    @property
    def per_year(self) -> float:
        if self.source != "data" or self.days <= 0:
            return DEFAULT_VISITS_PER_YEAR
        return round(self.n_visits * 365 / self.days, 1)

    def sentence(self, lang: Lang = "both") -> str:
        """How the volume was found, in one line.

        >>> VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31").sentence("en")
        'SH-JQ: 3,650 visits a year = 310 visits in 31 days (2026-10-01 – 2026-10-31) × 365 / 31'
        """
        who_zh, who_en = pair("network") if self.center == "all" else (self.center, self.center)
        if self.source != "data" or self.days <= 0:
            zh, en = pair("volume_default", who_zh=who_zh, who_en=who_en, per_year=DEFAULT_VISITS_PER_YEAR)
        else:
            zh, en = pair(
                "volume_data",
                who_zh=who_zh,
                who_en=who_en,
                per_year=self.per_year,
                first=self.first,
                last=self.last,
                days=self.days,
                n_visits=self.n_visits,
            )
        return bilingual(zh, en, lang=lang, sep=" / ")


def yearly_visits(visits: pd.DataFrame, center: str = "all", *, arrived: str = "arrived_at") -> VisitVolume:
    """The yearly visit volume of a report's scope, from its selected visits (:class:`VisitVolume`).

    A center's report uses its own visits, the network report all visits; the days are those
    the data cover (first to last arrival day, local time), not the calendar of the period.

        >>> arrived = pd.to_datetime(["2026-10-01 09:00", "2026-10-15 10:00", "2026-10-31 17:00"])
        >>> yearly_visits(pd.DataFrame({"arrived_at": arrived}), "SH-JQ").per_year
        35.3
    """
    require_columns(visits, [arrived], "visits")
    days_seen = pd.Series(visits[arrived]).dropna()
    if days_seen.empty:
        return VisitVolume(str(center), 0, 0, None, None, source="default")
    first, last = days_seen.min().date(), days_seen.max().date()
    return VisitVolume(str(center), int(len(visits)), (last - first).days + 1, first.isoformat(), last.isoformat())


def scope_assumptions(volume: VisitVolume, *, cases: Sequence[Case] | None = None, lang: Lang = "both") -> pd.DataFrame:
    """What the ROI figures of a report rest on, for the reader's scope: the yearly visit volume
    (with its n, days and period) and, when ``cases`` are given, which cases carry this
    center's own figures from the cases file and which the file's network figures.

        >>> scope_assumptions(VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31"), lang="en").iloc[0, 1]
        '3,650'
    """
    item, value, source = (
        text("item", lang=lang, en_first=True),
        text("value", lang=lang, en_first=True),
        text("source", lang=lang, en_first=True),
    )
    rows = [{item: text("visits_a_year", lang=lang), value: f"{volume.per_year:,.0f}", source: volume.sentence(lang)}]
    if cases is not None and not isinstance(cases, str):
        own = [c.name(lang) for c in cases if c.center is not None]
        rest = [c.name(lang) for c in cases if c.center is None]
        if volume.center != "all":
            rows.append(
                {
                    item: text("cases_with_this_center_s_figures", lang=lang),
                    value: f"{len(own)} / {len(cases)}",
                    source: "、".join(own) if own else text("none_the_cases_file_gives_none", lang=lang),
                }
            )
        rows.append(
            {
                item: text("cases_with_the_file_s_network_figures", lang=lang),
                value: f"{len(rest)} / {len(cases)}",
                source: text("reach_and_effects_as_in_the_cases_file", lang=lang),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ScopeNote:
    """:func:`scope_assumptions` as one short paragraph (for the one-page summary): shown as
    escaped HTML in a notebook, as the plain sentence elsewhere."""

    text: str

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        from cxlib.safe import literal_html

        return literal_html(
            f'<p class="cx-roi-scope" style="margin:0.1em 0;font-size:0.8em;line-height:1.25">'
            f"{html.escape(self.text)}</p>"
        )


def scope_note(volume: VisitVolume, *, cases: Sequence[Case] | None = None, lang: Lang = "both") -> ScopeNote:
    """What the ROI table rests on for this scope, in one short sentence per language: the visits
    a year (with n, days and dates) and, for a center, how many cases carry its own figures.

        >>> scope_note(VisitVolume("SH-JQ", 310, 31, "2026-10-01", "2026-10-31"), cases=[], lang="en").text
        'ROI assumes 3,650 visits a year (SH-JQ: 310 in 31 days 2026-10-01 – 2026-10-31, annualised); cases with own figures: 0 of 0'
    """
    own = [c.id for c in (cases or []) if c.center is not None]
    network = volume.center == "all"
    n_cases = len(cases or [])

    def one(lg: Lang) -> str:
        if volume.source != "data":
            return volume.sentence(lg)
        who_zh, who_en = pair("network") if network else (volume.center, volume.center)
        note = text(
            "scope_note",
            lang=lg,
            who_zh=who_zh,
            who_en=who_en,
            per_year=volume.per_year,
            first=volume.first,
            last=volume.last,
            days=volume.days,
            n_visits=volume.n_visits,
        )
        return note if network else note + text("scope_note_own", lang=lg, own=len(own), cases=n_cases)

    return ScopeNote(" / ".join(one(lg) for lg in (("zh", "en") if lang == "both" else (lang,))))


class WithNote:
    """A table shown with a :class:`ScopeNote` under it, in one output (so a print keeps them together)."""

    def __init__(self, table: pd.DataFrame, note: ScopeNote) -> None:
        self.table, self.note = table, note

    def __repr__(self) -> str:
        return f"{self.table!r}\n{self.note.text}"

    def _repr_html_(self) -> str:
        from cxlib.safe import literal_html

        return literal_html(self.table._repr_html_()) + self.note._repr_html_()


def with_note(table: pd.DataFrame, note: ScopeNote) -> WithNote:
    """``table`` shown with ``note`` (what its figures rest on) directly under it.

    >>> print(repr(with_note(pd.DataFrame({"a": [1]}), ScopeNote("ROI assumes 10 visits a year"))))
       a
    0  1
    ROI assumes 10 visits a year
    """
    return WithNote(table, note)
