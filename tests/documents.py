"""Documents of every format, built in the tests (fpdf2, python-docx, the email package): nothing is
downloaded. Shared by the extraction tests and the end-to-end ones."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage

import docx
from fpdf import FPDF
from PIL import Image

ARTICLE = [
    "El secretario de Relaciones Exteriores sostuvo una llamada con su homólogo estadounidense para "
    "revisar los avances de la cooperación bilateral en materia de seguridad.",
    "Ambos funcionarios acordaron que el Grupo de Implementación de Seguridad debe seguir generando "
    "acciones tangibles contra el tráfico de armas y de fentanilo.",
    "La próxima reunión de este grupo está programada para el 23 de enero y se enfocará en combatir a "
    "los cárteles que operan en ambos lados de la frontera.",
    "Fuentes de la cancillería indicaron que la delegación mexicana presentará un informe sobre los "
    "decomisos realizados durante el último trimestre.",
]
HEADLINE = "México y Estados Unidos acuerdan nueva reunión de seguridad"
BOILERPLATE = {
    "cookie banner": "Usamos cookies para mejorar su experiencia",
    "navigation": "Deportes",
    "comment": "siempre prometen lo mismo",
    "comment author": "pepe_1987",
    "related links": "Aumentan los decomisos de armas en la frontera norte",
    "teaser": "Detienen a tres personas por el robo de un camión de valores en Puebla",
    "share bar": "Compartir en Facebook",
    "footer": "Todos los derechos reservados",
}


def news_page(head: str) -> bytes:
    """A news page whose <article> also holds a teaser, a share bar, related links and the comments, as
    many sites have it; navigation, a cookie banner and a footer around it."""
    first, second, *rest = (f"<p>{p}</p>" for p in ARTICLE)
    return f"""<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8">{head}</head>
<body>
<div id="cookie-banner" class="cookie-consent">{BOILERPLATE["cookie banner"]}. <button>Aceptar todas</button></div>
<header><nav class="main-nav"><ul><li><a href="/">Portada</a></li><li><a href="/politica">Política</a></li>
<li><a href="/deportes">{BOILERPLATE["navigation"]}</a></li><li><a href="/opinion">Opinión</a></li></ul></nav></header>
<main><article class="article">
<h1>{HEADLINE}</h1>
{first}{second}
<div class="lee-tambien"><p><strong>Lee también:</strong> <a href="/x">{BOILERPLATE["teaser"]}</a></p></div>
{"".join(rest)}
<div class="share-bar"><a href="#">{BOILERPLATE["share bar"]}</a> <a href="#">Enviar por WhatsApp</a></div>
<section class="related-links"><h2>Noticias relacionadas</h2><ul>
<li><a href="/a">{BOILERPLATE["related links"]}</a></li>
<li><a href="/b">El Senado aprueba la reforma de la guardia nacional</a></li>
<li><a href="/c">Crece la inversión extranjera en el Bajío</a></li></ul></section>
<section id="comments" class="comments"><h2>Comentarios</h2>
<div class="comment"><p class="comment-author">{BOILERPLATE["comment author"]}</p>
<p>Esto no sirve de nada, {BOILERPLATE["comment"]} y nunca cumplen.</p></div>
<div class="comment"><p class="comment-author">maria_g</p>
<p>Ojalá esta vez sí haya resultados concretos para las familias.</p></div>
</section></article></main>
<footer><p>© 2026 Diario Ejemplo. {BOILERPLATE["footer"]}. Aviso de privacidad.</p></footer>
</body></html>""".encode()


META_TAGS = f"""<title>{HEADLINE} | Diario Ejemplo</title>
<meta property="og:title" content="{HEADLINE}">
<meta name="author" content="Pedro Gómez Ruiz">
<meta property="article:published_time" content="2026-01-15T21:10:00-06:00">
<meta property="og:site_name" content="Diario Ejemplo">
<link rel="canonical" href="https://diario.example/2026/01/15/reunion-seguridad">"""
JSON_LD = (
    '<script type="application/ld+json">'
    + json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": HEADLINE,
            "datePublished": "2026-01-16T09:30:00-06:00",
            "author": {"@type": "Person", "name": "Lucía Fernández Ortega"},
            "publisher": {"@type": "Organization", "name": "Diario Ejemplo"},
        },
        ensure_ascii=False,
    )
    + "</script>"
)


def make_pdf(
    pages: list[list[str]], *, image_pages: tuple[int, ...] = (), password: str | None = None
) -> bytes:
    """A PDF whose page i holds the paragraphs pages[i] (wrapped by fpdf2), and an image on image_pages."""
    pdf = FPDF()
    pdf.set_title("Informe trimestral de seguridad")
    pdf.set_author("Secretaría de Ejemplo")
    pdf.set_creation_date(datetime(2026, 1, 16, 9, 30, tzinfo=UTC))
    pdf.set_font("Helvetica", size=11)
    for i, paragraphs in enumerate(pages, 1):
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(6)
        if i in image_pages:
            picture = io.BytesIO()
            Image.new("RGB", (300, 400), (90, 90, 90)).save(picture, "PNG")
            pdf.image(picture, x=20, y=20, w=150)
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    return bytes(pdf.output())


SENTENCE = "La próxima reunión está programada para el 23 de enero en la Ciudad de México."


def make_docx() -> bytes:
    document = docx.Document()
    props = document.core_properties
    props.title, props.author = "Decomisos del trimestre", "Unidad de Análisis"
    props.created = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
    document.add_heading("Decomisos del trimestre", level=1)
    document.add_paragraph(ARTICLE[3])
    table = document.add_table(rows=3, cols=2)
    for row, (place, count) in enumerate([("Estado", "Armas"), ("Sonora", "1.234"), ("Chihuahua", "987")]):
        table.cell(row, 0).text, table.cell(row, 1).text = place, count
    document.add_paragraph("Las cifras son preliminares.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


BODY = (
    "Buenas noches:\n\n"
    "La próxima reunión del Grupo de Implementación de Seguridad será el 23 de enero, según informó la\n"
    "cancillería mexicana en un comunicado enviado esta noche a los medios de comunicación del país.\n\n"
    "Saludos,\nLucía\n"
)


def make_eml(*attachments: tuple[bytes, str, str]) -> bytes:
    message = EmailMessage()
    message["From"] = Address("Lucía Fernández", "lucia", "diario.example")
    message["To"] = "redaccion@diario.example"
    message["Subject"] = "Resumen: reunión de seguridad el 23 de enero"
    message["Date"] = "Fri, 16 Jan 2026 23:30:00 -0600"
    message.set_content(BODY, charset="utf-8", cte="quoted-printable")
    for data, mime, name in attachments:
        maintype, subtype = mime.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes(policy=policy.SMTP)
