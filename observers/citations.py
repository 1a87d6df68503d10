"""Citations of an excerpt: plain text, BibTeX and RIS."""

from django.utils.formats import date_format


def _date(value):
    return date_format(value, "j F Y") if value else "n.d."


def locator(excerpt):
    parts = []
    if excerpt.page:
        parts.append(f"p. {excerpt.page}")
    if excerpt.paragraph:
        parts.append(f"para. {excerpt.paragraph}")
    return ", ".join(parts)


def plain(excerpt, url, accessed):
    document = excerpt.document
    author = document.author or document.publisher.name
    pieces = [f"{author}, “{document.title}”", document.get_kind_display(), _date(document.date)]
    if locator(excerpt):
        pieces.append(locator(excerpt))
    text = ", ".join(pieces) + "."
    if document.url:
        text += f" {document.url}."
    if document.archive_url:
        text += f" Archived at {document.archive_url}."
    text += f" Quoted in the Election Observation Record, {url} (accessed {_date(accessed)})."
    return text


def _bibtex_escape(value):
    for char in "\\{}&%$#_^~":
        value = value.replace(char, f"\\{char}")
    return value


def bibtex(excerpt, url, accessed):
    document = excerpt.document
    fields = {
        "title": document.title,
        "author": document.author or f"{{{document.publisher.name}}}",
        "organization": document.publisher.name,
        "year": str(document.date.year) if document.date else "",
        "month": str(document.date.month) if document.date else "",
        "howpublished": document.get_kind_display(),
        "url": document.url,
        "note": "; ".join(
            part
            for part in [
                locator(excerpt),
                f"Archived at {document.archive_url}" if document.archive_url else "",
                f"Quoted in the Election Observation Record: {url}, accessed {accessed.isoformat()}",
            ]
            if part
        ),
    }
    body = ",\n".join(
        f"  {key} = {{{value if key == 'author' else _bibtex_escape(value)}}}" for key, value in fields.items() if value
    )
    return f"@misc{{eor-excerpt-{excerpt.pk},\n{body}\n}}\n"


def ris(excerpt, url, accessed):
    document = excerpt.document
    lines = [("TY", "GEN"), ("TI", document.title)]
    lines.append(("AU", document.author) if document.author else ("A2", document.publisher.name))
    lines.append(("PB", document.publisher.name))
    if document.date:
        lines.append(("PY", str(document.date.year)))
        lines.append(("DA", document.date.strftime("%Y/%m/%d")))
    lines.append(("M3", document.get_kind_display()))
    if document.url:
        lines.append(("UR", document.url))
    if excerpt.page:
        lines.append(("SP", excerpt.page))
    lines.append(("LA", excerpt.language))
    lines.append(("N1", " ".join(excerpt.text.split())))
    lines.append(("N1", f"Quoted in the Election Observation Record: {url}, accessed {accessed.isoformat()}"))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {' '.join(value.split())}\r\n" for tag, value in lines)
