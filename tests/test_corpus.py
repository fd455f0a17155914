from pathlib import Path

import pytest

from assistant.ingestion.chunking import chunk_article, sentences
from assistant.ingestion.corpus import Article, UnreadableFile, parse, read_articles, scan
from tests.conftest import ARTICLES


def load_corpus(folder: Path) -> tuple[list[Article], list[str]]:
    """Every readable article under folder, and a warning per file skipped or re-decoded."""
    found = scan(folder, 20 * 1024 * 1024)
    articles, warnings = [], list(found.warnings)
    for source, path in found.files.items():
        try:
            read, notes = read_articles(source, path.read_bytes())
        except UnreadableFile as exc:
            warnings.append(str(exc))
            continue
        articles += read
        warnings += notes
    return articles, warnings


def test_date_title_and_junk_are_found_and_offsets_stay_true():
    text = " date 2026-01-16 Título del artículo\n\nPrimera frase. Segunda frase.\nComentarios\n0 comentarios\n\n\n"
    article = parse("a.txt", text)
    assert article.date == "2026-01-16"
    assert article.title == "Título del artículo"
    assert article.body.startswith("Título")
    assert article.body.endswith("Segunda frase.")
    assert "Comentarios" not in article.body


def test_no_date_token_and_long_first_line_gives_a_short_title():
    article = parse("b.md", "palabra " * 50)
    assert article.date is None
    assert len(article.title) <= 121 and article.title.endswith("…")


def test_sample_articles_all_load_without_warnings():
    articles, warnings = load_corpus(ARTICLES)
    assert [a.source for a in articles] == sorted(p.name for p in ARTICLES.glob("*.txt"))
    assert warnings == []
    junk = next(a for a in articles if a.source.startswith("003"))
    assert "comentarios" not in junk.body.lower()


def test_bad_files_are_skipped_with_a_warning_naming_them(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.md").write_text("Una noticia. Con dos frases.", encoding="utf-8")
    (tmp_path / "latin.txt").write_bytes("Reunión en Washington.".encode("cp1252"))
    (tmp_path / "empty.txt").write_text("  \n\n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x01garbage")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    articles, warnings = load_corpus(tmp_path)
    assert sorted(a.source for a in articles) == ["latin.txt", "sub/good.md"]
    assert any("latin.txt" in w and "cp1252" in w for w in warnings)
    assert any("empty.txt" in w for w in warnings)
    assert any("binary.txt" in w for w in warnings)
    assert any(w.startswith("notes.pdf: named .pdf but not a PDF") for w in warnings)
    assert not any("photo.jpg" in w for w in warnings)  # not a type we read: counted, not warned
    assert scan(tmp_path, 10**6).notice == "ignored 1 file(s) of types not read (1 .jpg)"
    latin = next(a for a in articles if a.source == "latin.txt")
    assert "Reunión" in latin.text


def test_undecodable_file_raises_a_named_error(tmp_path: Path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\x81\x8d\x8f\x90\x9d")  # bytes undefined in both UTF-8 and cp1252
    with pytest.raises(UnreadableFile, match="bad.txt"):
        read_articles("bad.txt", path.read_bytes())


def test_sentences_and_chunks_have_exact_offsets_and_respect_paragraphs():
    articles, _ = load_corpus(ARTICLES)
    for article in articles:
        chunks = chunk_article(article, 700)
        for chunk in chunks:
            assert article.text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= 700 or len(chunk.sentences) == 1
            for span in chunk.sentences:
                quote = article.text[span.start : span.end]
                assert quote == quote.strip() and "\n" not in quote
    total = sum(len(c.sentences) for a in articles for c in chunk_article(a, 700))
    assert total == 69  # the five articles' sentences


def test_sentence_split_keeps_abbreviations_together():
    text = "Se reunieron en Washington, D.C. el lunes. Después hablaron con el Sr. Rubio."
    quotes = [text[s.start : s.end] for s in sentences(text)]
    assert quotes == ["Se reunieron en Washington, D.C. el lunes.", "Después hablaron con el Sr. Rubio."]


def test_chunk_ids_are_stable_and_change_with_the_text():
    article = parse("a.txt", "Primera frase. Segunda frase.\n\nOtro párrafo.")
    again = parse("a.txt", "Primera frase. Segunda frase.\n\nOtro párrafo.")
    edited = parse("a.txt", "Primera frase. Segunda frase.\n\nOtro párrafo distinto.")
    ids = [c.id for c in chunk_article(article, 700)]
    assert ids == [c.id for c in chunk_article(again, 700)]
    assert ids[0] == chunk_article(edited, 700)[0].id and ids[1] != chunk_article(edited, 700)[1].id
