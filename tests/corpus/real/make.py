#!/usr/bin/python3
"""Documents made by real programs for tests/unit/real_documents_test.cpp (issue 15).

PDFs with reportlab and an embedded TrueType font (DejaVu Sans), DOCX with python-docx. The
outputs are committed next to this script, so CI needs neither (scripts/setup installs them:
python3-reportlab python3-docx fonts-dejavu-core). Run: /usr/bin/python3 tests/corpus/real/make.py (Debian's python3, where apt installs them)

reportlab writes a creation date and a random document id into each PDF; invariant=1 keeps the
output the same on every run. The DOCX files (zip archives) still differ byte for byte from run
to run though their text does not: commit them again only when their content changes.
"""
import os

from docx import Document
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus import TableStyle
from reportlab import rl_config

rl_config.invariant = 1
HERE = os.path.dirname(os.path.abspath(__file__))
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
pdfmetrics.registerFont(TTFont("DejaVuSans", FONT))
BODY = ParagraphStyle("body", fontName="DejaVuSans", fontSize=10.5, leading=14)
TITLE = ParagraphStyle("title", parent=BODY, fontSize=13, leading=18)

HEAD = [
    "Statsforvalteren i Oslo og Viken",
    "",
    "Stiftelsen Heggedal Barnehager",
    "v/ Geir Mathisen",
    "Postboks 44, 1389 Heggedal",
    "",
    "Deres ref.: HB-2020-03      Vår ref.: 2020/43817      Vår dato: 24.11.2020",
    "",
]
CLOSE = [
    "",
    "Med hilsen",
    "Kari Berg",
    "seniorrådgiver",
    "",
    "Dokumentet er elektronisk godkjent",
]


def pdf(name, flow):
    doc = SimpleDocTemplate(os.path.join(HERE, name), pagesize=A4, title=name, author="SFOV")
    doc.build(flow)


def paras(lines, style=BODY):
    return [Paragraph(l, style) if l else Spacer(1, 8) for l in lines]


def grant_list_pdf():
    flow = paras(HEAD)
    flow.append(Paragraph("Tilsagn om tilretteleggingsmidler 2020", TITLE))
    flow += paras([
        "Vi viser til søknad fra Stiftelsen Heggedal Barnehager (org.nr. 992 888 113) om "
        "tilretteleggingsmidler for ansatte som tar barnehagelærerutdanning.",
        "",
        "Statsforvalteren innvilger kr 50 000 per student for følgende ansatte:",
    ])
    flow.append(ListFlowable(
        [ListItem(Paragraph(n, BODY)) for n in ["Lise Haugen", "Nora Lie"]],
        bulletType="bullet", bulletFontName="DejaVuSans", start="•"))
    flow += paras(["", "Til sammen kr 100 000.", "",
                   "Tilskuddet utbetales til barnehageeiers konto."] + CLOSE)
    pdf("grant-list.pdf", flow)


def table_letter_pdf():
    flow = paras(HEAD)
    flow.append(Paragraph("Vedtak om tilretteleggingsmidler 2020", TITLE))
    flow += paras([
        "Vi viser til søknad fra Stiftelsen Heggedal Barnehager (org.nr. 992 888 113).",
        "Statsforvalteren har behandlet søknaden og tildeler tilskudd som vist i tabellen.",
        "",
    ])
    rows = [["Ansatt", "Utdanning", "Søkt beløp", "Tildelt beløp"],
            ["Lise Haugen", "ABLU", "kr 95 000", "kr 50 000"],
            ["Nora Lie", "ABLU", "kr 80 000", "kr 40 000"]]
    t = Table(rows, colWidths=[120, 90, 90, 90])
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "DejaVuSans"),
                           ("GRID", (0, 0), (-1, -1), 0.5, colors.grey)]))
    flow.append(t)
    flow += paras(["", "Til sammen kr 90 000."] + CLOSE)
    pdf("table-letter.pdf", flow)


def grant_names_table_pdf():
    flow = paras(HEAD)
    flow.append(Paragraph("Tilsagn om tilretteleggingsmidler 2020", TITLE))
    flow += paras([
        "Vi viser til søknad fra Stiftelsen Heggedal Barnehager (org.nr. 992 888 113).",
        "",
        "Følgende ansatte tildeles kr 50 000 pr. student:",
        "",
    ])
    t = Table([["Navn", "Utdanning"], ["Lise Haugen", "ABLU"], ["Nora Lie", "ABLU"]],
              colWidths=[140, 140])
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "DejaVuSans")]))
    flow.append(t)
    flow += paras(["", "Samlet tilskudd: kr 100 000"] + CLOSE)
    pdf("grant-names-table.pdf", flow)


def rejection_list_docx():
    d = Document()
    for l in HEAD:
        d.add_paragraph(l)
    d.add_heading("Avslag på søknad om tilretteleggingsmidler", level=2)
    d.add_paragraph("Vi viser til søknad fra Stiftelsen Heggedal Barnehager (org.nr. 992 888 113).")
    d.add_paragraph("Midlene er brukt opp. Statsforvalteren avslår søknaden for følgende ansatte:")
    for n in ["Emil Dahl", "Sara Moen"]:
        d.add_paragraph(n, style="List Bullet")
    for l in CLOSE:
        d.add_paragraph(l)
    d.core_properties.author = "SFOV"
    save_docx(d, "rejection-list.docx")


def form_docx():
    d = Document()
    d.add_heading("Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
                  "barnehageansatte", level=1)
    for l in ["Saksnummer: 20/30298", "Barnehageeier: Stiftelsen Heggedal Barnehager",
              "Organisasjonsnummer: 992 888 113", "Barnehage: Heggedal barnehage",
              "Kontaktperson: Geir Mathisen", "E-post: geir.mathisen@heggedalbhg.no",
              "Kontonummer: 9235 18 57228", "Deres referanse: HB-2020-03"]:
        d.add_paragraph(l)
    rows = [["Navn", "Utdanning", "Studiested", "Kostnad", "Tilskudd fra Statsforvalteren"],
            ["Lise Haugen", "ABLU", "OsloMet", "95 000", "50 000"],
            ["Nora Lie", "ABLU", "OsloMet", "80 000", "40 000"]]
    t = d.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    d.add_paragraph("Legg ved tildelingsbrev/avslagsbrev fra Statsforvalteren for hver ansatt.")
    d.core_properties.author = "Geir Mathisen"
    save_docx(d, "form.docx")


def form_pdf():
    flow = [Paragraph("Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for "
                      "barnehageansatte", TITLE)]
    flow += paras(["Saksnummer: 20/30298", "Barnehageeier: Stiftelsen Heggedal Barnehager",
                   "Organisasjonsnummer: 992 888 113", "Kontaktperson: Geir Mathisen",
                   "Kontonummer: 9235 18 57228", ""])
    t = Table([["Navn", "Utdanning", "Studiested", "Kostnad", "Tilskudd fra Statsforvalteren"],
               ["Lise Haugen", "ABLU", "OsloMet", "95 000", "50 000"]])
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "DejaVuSans"),
                           ("FONTSIZE", (0, 0), (-1, -1), 9)]))
    flow.append(t)
    flow += paras(["", "Legg ved tildelingsbrev/avslagsbrev fra Statsforvalteren for hver "
                       "ansatt. Er søknaden avslått, legg ved avslagsbrevet."])
    pdf("form.pdf", flow)


def save_docx(d, name):
    # python-docx stamps no dates of its own; the template's are fixed.
    import datetime
    d.core_properties.created = datetime.datetime(2020, 11, 24)
    d.core_properties.modified = datetime.datetime(2020, 11, 24)
    d.save(os.path.join(HERE, name))


if __name__ == "__main__":
    grant_list_pdf()
    table_letter_pdf()
    grant_names_table_pdf()
    rejection_list_docx()
    form_docx()
    form_pdf()
