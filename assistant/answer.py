"""The answer contract (docs/DESIGN.md) as pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Corroboration(BaseModel):
    """Another article stating the same fact as a citation's quote; checkable like a citation."""

    source: str = Field(description="Path relative to the corpus directory")
    title: str
    date: str | None = None
    quote: str = Field(description="Exactly text[start:end] of the source's canonical text")
    start: int
    end: int


class Fact(BaseModel):
    """A phrase of a cited quote that a derived answer rests on; checkable like a short answer."""

    text: str = Field(description="Exactly text[start:end] of the source's canonical text")
    source: str
    start: int
    end: int
    n: int = Field(description="The citation whose quote holds it")
    resolved: str | None = Field(
        None, description="The calendar date it names (ISO), resolved against the article's date"
    )


class ShortAnswer(BaseModel):
    """The phrase of a quote that gives the kind of fact asked for (a date, an amount, a place, a name); or,
    `kind: "derived"`, a result computed from cited facts (the days between two dated events)."""

    text: str = Field(
        description="Exactly text[start:end] of the source's canonical text; derived: the result"
    )
    source: str | None = Field(None, description="None only for a derived answer")
    start: int | None = None
    end: int | None = None
    n: int | None = Field(None, description="The citation whose quote holds it (None only when derived)")
    kind: str = Field(
        description="date, day, time, number, quantity, money, percent, place, person, organisation, derived"
    )
    resolved: str | None = Field(
        None,
        description="date and day answers: the calendar date (ISO) where the phrase is relative or has no year",
    )
    derivation: str | None = Field(
        None, description="derived: the computation, e.g. 15 January 2026 − 11 January 2026 = 4 days"
    )
    rests_on: list[Fact] = Field(
        default_factory=list, description="derived: the cited facts it is computed from"
    )


class Citation(BaseModel):
    n: int
    source: str = Field(description="Path relative to the corpus directory")
    title: str
    date: str | None = None
    quote: str = Field(description="Exactly text[start:end] of the source's canonical text")
    start: int
    end: int
    chunk_id: str
    score: float
    also_in: list[Corroboration] = Field(
        default_factory=list, description="Other articles that state the same fact (extractive answers)"
    )
    format: str | None = Field(None, description="text, markdown, html, pdf, docx, eml or feed")
    page: int | None = Field(None, description="PDF: the page (from 1) where the quote starts")
    parent: str | None = Field(None, description="An e-mail attachment: the message it came with")


class Answer(BaseModel):
    question: str
    language: str
    answer: str
    abstained: bool
    citations: list[Citation] = Field(default_factory=list)
    short_answer: ShortAnswer | None = Field(
        None, description="The phrase in the first quote that gives the kind of fact asked for"
    )
    warnings: list[str] = Field(default_factory=list)
    translations: dict[str, str] = Field(default_factory=dict)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    unsupported: list[str] = Field(
        default_factory=list, description="Generated sentences no valid citation supports (LLM answers)"
    )
    standalone_question: str | None = Field(
        None, description="The question as searched, when a follow-up was completed from the conversation"
    )
    answerer: str = Field("extractive", description="extractive, or the BRIEFING_LLM spec that answered")
    reason: str | None = Field(None, description="Why the articles were judged not to answer (abstentions)")


ABSTENTION = {
    "en": "I could not find this in the articles.",
    "es": "No encontré esto en los artículos.",
}
