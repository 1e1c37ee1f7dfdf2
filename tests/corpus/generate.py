#!/usr/bin/env python3
"""Writes the tilskudd test corpus: realistic application e-mails (.eml) for case 20/30298 as
kindergarten owners send them from Outlook, Gmail, Apple Mail and Thunderbird, each with the
expected `inspect` result (.json), plus config.toml and the rosters they are decided under.

Python 3.11 standard library only. Deterministic: fixed dates, boundaries and Message-IDs, so
running it again gives identical bytes.

    python3 tests/corpus/generate.py            # writes next to this file
    python3 tests/corpus/generate.py --check    # also runs pdftotext on every PDF it writes

The expected results are written BY HAND below (docs/CONTRACT.md and docs/DECISIONS.md applied to
each case), never by running tilskudd.
"""

from __future__ import annotations

import base64
import io
import json
import quopri
import struct
import subprocess
import sys
import tempfile
import textwrap
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent
CASE = "20/30298"
MAX_EML = 60 * 1024

# ---------------------------------------------------------------------------------------------
# Norwegian identifiers (mod-11)


def mod11(digits: str, weights: list[int]) -> int | None:
    s = sum(int(d) * w for d, w in zip(digits, weights))
    c = 11 - s % 11
    if c == 11:
        return 0
    if c == 10:
        return None
    return c


ORG_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2]
ACCOUNT_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]


def valid_org(n: str) -> bool:
    return len(n) == 9 and n.isdigit() and mod11(n[:8], ORG_WEIGHTS) == int(n[8])


def valid_account(n: str) -> bool:
    return len(n) == 11 and n.isdigit() and mod11(n[:10], ACCOUNT_WEIGHTS) == int(n[10])


def org(base8: str) -> str:
    c = mod11(base8, ORG_WEIGHTS)
    assert c is not None, base8
    n = base8 + str(c)
    assert valid_org(n)
    return n


def account(base10: str) -> str:
    c = mod11(base10, ACCOUNT_WEIGHTS)
    assert c is not None, base10
    n = base10 + str(c)
    assert valid_account(n)
    return n


def fmt_org(n: str) -> str:
    return f"{n[0:3]} {n[3:6]} {n[6:9]}"


def fmt_account(n: str) -> str:
    return f"{n[0:4]} {n[4:6]} {n[6:11]}"


# ---------------------------------------------------------------------------------------------
# The applicants


@dataclass
class Owner:
    name: str
    org: str
    kindergarten: str
    contact: str
    email: str
    account: str
    street: str
    town: str
    ref: str = ""


OWNERS = {
    "sol": Owner("Solsikken Barnehage AS", org("92145678"), "Solsikken barnehage", "Kari Nordmann",
                 "kari.nordmann@solsikken-bhg.no", account("1503274113"), "Solsikkeveien 4",
                 "1384 ASKER", "SOL-2020-7"),
    "bla": Owner("Blåbærtoppen Barnehage SA", org("98765432"), "Blåbærtoppen barnehage",
                 "Trine Aasen", "styrer@blabaertoppen.no", account("1506471293"), "Toppveien 12",
                 "1385 ASKER", "BT-11/2020"),
    "heg": Owner("Stiftelsen Heggedal Barnehager", org("99288811"), "Heggedal barnehage",
                 "Geir Mathisen", "geir.mathisen@heggedalbhg.no", account("9235185722"),
                 "Heggedalsbakken 2", "1389 HEGGEDAL", "HB-2020-03"),
    "kan": Owner("Kanutten Barnehage AS", org("91577342"), "Kanutten barnehage", "Lene Fjeld",
                 "lene@kanutten.no", account("1254673820"), "Kanutteveien 7", "1383 ASKER"),
    "vet": Owner("Vettre Gårdsbarnehage AS", org("92433521"), "Vettre gårdsbarnehage",
                 "Ragnhild Bøe", "ragnhild.boe@vettregard.no", account("1207183994"),
                 "Vettreveien 101", "1392 VETTRE", "VG-14"),
    "eve": Owner("Eventyrskogen Barnehage AS", org("99766510"), "Eventyrskogen barnehage",
                 "Morten Skaug", "morten.skaug@eventyrskogen.no", account("9710058126"),
                 "Skogveien 30", "1386 ASKER"),
    "tro": Owner("Trollstua Barnehage BA", org("91366204"), "Trollstua barnehage", "Hilde Granli",
                 "hilde.granli@trollstua.no", account("1822401583"), "Trollveien 3",
                 "1390 VOLLEN", "TS-2020-2"),
    "nes": Owner("Nesøya Naturbarnehage AS", org("98811270"), "Nesøya naturbarnehage",
                 "Øystein Lier", "oystein@nesoya-natur.no", account("7058061152"),
                 "Nesøyveien 55", "1396 BILLINGSTAD"),
    "hva": Owner("Hvalstad Friluftsbarnehage AS", org("92955834"), "Hvalstad friluftsbarnehage",
                 "Camilla Berge", "camilla.berge@hvalstadfrilufts.no", account("1594221737"),
                 "Hvalstadåsen 9", "1395 HVALSTAD", "HF 2020/4"),
    "bon": Owner("Bondistua Barnehage SA", org("91703386"), "Bondistua barnehage",
                 "Per Arne Holm", "pa.holm@bondistua.no", account("2801304417"),
                 "Bondiveien 21", "1386 ASKER"),
    "lin": Owner("Linneaskogen Barnehage AS", org("99540217"), "Linneaskogen barnehage",
                 "Silje Nordby", "silje@linneaskogen.no", account("1638206654"),
                 "Linneaveien 2", "1394 NESBRU", "LS-09"),
    "fje": Owner("Fjellstua Barnehage AS", org("92366011"), "Fjellstua barnehage", "Anders Wold",
                 "anders.wold@fjellstua-bhg.no", account("6201059327"), "Fjellstuveien 18",
                 "1387 ASKER"),
    "skj": Owner("Skjærsol Barnehage AS", org("91855460"), "Skjærsol barnehage", "Tone Bakke",
                 "tone@skjaersol.no", account("1813302268"), "Skjærsolveien 6", "1397 NESØYA"),
    "hol": Owner("Holmen Strand Barnehage AS", org("99123007"), "Holmen strand barnehage",
                 "Mona Brekke", "mona.brekke@holmenstrand.no", account("1604339201"),
                 "Strandveien 44", "1394 NESBRU", "HSB-2020"),
}

# Deliberately invalid identifiers (bad check digits).
BAD_ORG = "921456787"  # Solsikken's 921456786 with the last digit mistyped
BAD_ACCOUNT = "12546738204"  # Kanutten's 12546738203 with the last digit mistyped
assert not valid_org(BAD_ORG) and len(BAD_ORG) == 9
assert not valid_account(BAD_ACCOUNT) and len(BAD_ACCOUNT) == 11

# ---------------------------------------------------------------------------------------------
# Rosters: (employee, programme code, owner key). Cases that need someone missing leave them out.

ROSTER_2020 = [
    ("Ingrid Solberg", "ABLU", "sol"),          # 01
    ("Marte Kristiansen", "ABLU", "bla"),       # 02
    ("Jonas Berg", "BLU_DELTID", "bla"),        # 02
    ("Lise Haugen", "ABLU", "heg"),             # 03
    ("Nora Lie", "ABLU", "heg"),                # 03
    ("Emil Dahl", "BLU_DELTID", "heg"),         # 03
    ("Sara Moen", "BLU_DELTID", "heg"),         # 03
    ("Tobias Strand", "ABLU", "heg"),           # 03
    ("Camilla Rønning", "BLU_DELTID", "kan"),   # 04
    ("Kristian Aas", "ABLU", "vet"),            # 05 (Hanne Vik, OTHER, is not on it)
    ("Silje Nilsen", "ABLU", "eve"),            # 06 (Thomas Berntsen is not on it)
    ("Maria Olsen", "ABLU", "tro"),             # 07
    ("Henrik Johansen", "ABLU", "nes"),         # 08
    ("Eva Karlsen", "ABLU", "hva"),             # 09
    ("Julie Pedersen", "BLU_DELTID", "bon"),    # 10
    ("Anette Hansen", "ABLU", "lin"),           # 11
    ("Marius Eriksen", "ABLU", "fje"),          # 12
    ("Åse Kjærnes", "BLU_DELTID", "skj"),       # 13
    ("Thea Larsen", "ABLU", "hol"),             # 14
    ("Kjersti Haug", "ABLU", "sol"),            # 15
    ("Ole Martin Bakken", "BLU_DELTID", "bla"), # 16
    ("Hege Aune", "ABLU", "heg"),               # 17
    ("Bjørn Øvrebø", "ABLU", "kan"),            # 18
    ("Vilde Engen", "BLU_DELTID", "vet"),       # 19
    ("Randi Sætre", "ABLU", "eve"),             # 20
    ("Guro Tangen", "ABLU", "tro"),             # 21
    ("Stine Myhre", "BLU_DELTID", "nes"),       # 22
    ("Linn Christensen", "ABLU", "hva"),        # 27
    ("Frida Solheim", "ABLU", "sol"),           # 29 (the roster has Solsikken's real number)
    ("Eirik Hauge", "ABLU", "lin"),             # 30
    ("Ida Sæther", "BLU_DELTID", "lin"),        # 30
    ("Magnus Lunde", "ABLU", "lin"),            # 30
    ("Mette Kristoffersen", "ABLU", "fje"),     # 31
    ("Sofie Brekke", "ABLU", "skj"),            # 32
    ("Anne Grete Vik", "ABLU", "hol"),          # 33
    ("Kamilla Strøm", "ABLU", "bon"),           # 34
    ("Petter Nygård", "ABLU", "kan"),           # 35
    ("Ronja Holm", "ABLU", "eve"),              # 36
    ("Halvor Lund", "BLU_DELTID", "tro"),       # 37 (form says ABLU)
    ("Tuva Ellingsen", "ABLU", "nes"),          # 38
    ("Sander Aasen", "ABLU", "hva"),            # 39
    ("Marit Gundersen", "ABLU", "bon"),         # 40
]

ROSTER_2021 = [
    ("Ingrid Solberg", "ABLU", "sol"),
    ("Lise Haugen", "ABLU", "heg"),
    ("Nora Lie", "ABLU", "heg"),
    ("Jonas Berg", "BLU_DELTID", "bla"),
    ("Karoline Dahle", "ABLU", "fje"),          # 28: only on the 2021 roster
    ("Julie Pedersen", "BLU_DELTID", "bon"),
    ("Oda Fossum", "BLU_DELTID", "lin"),        # 41
]

# ---------------------------------------------------------------------------------------------
# The form (docs/CONTRACT.md §1)

FORM_TITLE = "Søknad: Tilretteleggingstilskudd ved videre- og etterutdanning for barnehageansatte"
TABLE_HEADER = ["Navn", "Utdanning", "Studiested", "Kostnad", "Tilskudd fra Statsforvalteren"]


def form_fields(o: Owner, *, case_line: bool = True, org_number: str | None = None,
                acct: str | None = None, labels: dict | None = None) -> list[tuple[str, str]]:
    lab = {
        "case": "Saksnummer", "owner": "Barnehageeier", "org": "Organisasjonsnummer",
        "kg": "Barnehage", "contact": "Kontaktperson", "email": "E-post",
        "account": "Kontonummer", "ref": "Deres referanse",
    }
    lab.update(labels or {})
    fields = []
    if case_line:
        fields.append((lab["case"], CASE))
    fields += [
        (lab["owner"], o.name),
        (lab["org"], fmt_org(org_number or o.org)),
        (lab["kg"], o.kindergarten),
        (lab["contact"], o.contact),
        (lab["email"], o.email),
        (lab["account"], fmt_account(acct or o.account)),
    ]
    if o.ref:
        fields.append((lab["ref"], o.ref))
    return fields


def form_text(o: Owner, rows: list[list[str]], *, sep: str = " | ", colon: str = ": ",
              header: list[str] | None = None, title: str = FORM_TITLE, **kw) -> str:
    lines = [title] if title else []
    for k, v in form_fields(o, **kw):
        lines.append(f"{k}{colon}{v}")
    lines.append("")
    lines.append(sep.join(header or TABLE_HEADER))
    for r in rows:
        lines.append(sep.join(r))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# A small PDF 1.4 writer (Helvetica, WinAnsiEncoding) so that pdftotext -layout reads it


def pdf_str(s: str) -> bytes:
    b = s.encode("cp1252")
    return b"(" + b.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


LEADING = 13
LEFT = 62
TOP = 790


def pdf_content(items: list) -> bytes:
    """items: ("h1", text) bold 14, ("b", text) bold 10, ("p", text) wrapped 10, ("l", text) one
    line, ("", "") empty line, ("row", [(x_offset, text, bold)...]) cells on one line."""
    out = [b"BT", b"/F1 10 Tf", f"{LEADING} TL".encode(), f"{LEFT} {TOP} Td".encode()]
    n = 0
    font = "F1 10"

    def set_font(f: str):
        nonlocal font
        if f != font:
            out.append(f"/{f} Tf".encode())
            font = f

    for kind, val in items:
        if kind == "row":
            x = 0
            for off, txt, bold in val:
                set_font("F2 10" if bold else "F1 10")
                if off != x:
                    out.append(f"{off - x} 0 Td".encode())
                    x = off
                out.append(pdf_str(txt) + b" Tj")
            out.append(f"{-x} {-LEADING} Td".encode())
            n += 1
            continue
        if kind == "h1":
            set_font("F2 14")
            texts = [val]
        elif kind == "b":
            set_font("F2 10")
            texts = [val]
        elif kind == "p":
            set_font("F1 10")
            texts = textwrap.wrap(val, 92) or [""]
        else:
            set_font("F1 10")
            texts = [val]
        for t in texts:
            if t:
                out.append(pdf_str(t) + b" Tj")
            out.append(b"T*")
            n += 1
    out.append(b"ET")
    assert n < 58, f"letter too long for one page: {n} lines"
    return b"\n".join(out) + b"\n"


def pdf_document(content: bytes, *, title: str, fonts: bool = True) -> bytes:
    objs = []
    objs.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objs.append(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    res = b"<< /Font << /F1 5 0 R /F2 6 0 R >> >>" if fonts else b"<< >>"
    objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources " + res +
                b" /Contents 4 0 R >>")
    objs.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content +
                b"endstream")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
                b"/Encoding /WinAnsiEncoding >>")
    objs.append(b"<< /Title " + pdf_str(title) + b" /Producer (tilskudd corpus generator) "
                b"/CreationDate (D:20200624101500+02'00') >>")
    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, start=1):
        offsets.append(buf.tell())
        buf.write(f"{i} 0 obj\n".encode() + o + b"\nendobj\n")
    xref = buf.tell()
    buf.write(f"xref\n0 {len(objs) + 1}\n".encode())
    buf.write(b"0000000000 65535 f \n")
    for off in offsets:
        buf.write(f"{off:010d} 00000 n \n".encode())
    buf.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info {len(objs)} 0 R >>\n".encode())
    buf.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return buf.getvalue()


def pdf_from_items(items: list, title: str) -> bytes:
    return pdf_document(pdf_content(items), title=title)


def pdf_scan() -> bytes:
    """A 'scanned' letter: one page with only drawn shapes, no text at all."""
    content = (b"q\n0.92 g\n48 60 499 722 re f\n0.2 G\n1.5 w\n62 700 200 40 re S\n"
               b"62 640 470 2 re f\n62 600 420 2 re f\n62 560 450 2 re f\nQ\n")
    return pdf_document(content, title="Skannet dokument", fonts=False)


def pdf_plain_text(text: str, title: str) -> bytes:
    """A form exported to PDF: one line of text per line."""
    items = []
    for i, line in enumerate(text.rstrip("\n").split("\n")):
        items.append(("b" if i == 0 else "l", line))
    return pdf_from_items(items, title)


# ---------------------------------------------------------------------------------------------
# Letters from the state


SF = "Statsforvalteren i Oslo og Viken"
FM = "Fylkesmannen i Oslo og Viken"
FOOTER = ("Postadresse: Postboks 325, 1502 Moss | Telefon: 22 00 35 00 | "
          "sfovpost@statsforvalteren.no | Org.nr. 974 761 319")
FOOTER_FM = ("Postadresse: Postboks 325, 1502 Moss | Telefon: 22 00 35 00 | "
             "fmovpost@fylkesmannen.no | Org.nr. 974 761 319")
APPEAL = ("Vedtaket kan påklages til Utdanningsdirektoratet innen tre uker fra det er mottatt, "
          "jf. forvaltningsloven §§ 28 og 29. En eventuell klage sendes til oss.")


def nok(n: int) -> str:
    s = f"{n:,}".replace(",", " ")
    return f"kr {s}"


def num(n: int) -> str:
    return f"{n:,}".replace(",", " ")


@dataclass
class Letter:
    kind: str  # grant / rejection / receipt / table
    owner: Owner
    date: str  # "24.06.2020"
    ref: str  # "2020/12345"
    # grant/rejection: [(employee, programme text, study place, applied, granted or None)]
    entries: list = field(default_factory=list)
    sender: str = SF
    applied_sentence: bool = True
    their_date: str = "12.03.2020"
    officer: str = "Anne Lise Berg"


def letter_items(L: Letter) -> list:
    o = L.owner
    footer = FOOTER_FM if L.sender == FM else FOOTER
    items = [("h1", L.sender), ("l", "")]
    items.append(("row", [(0, "Vår dato:", True), (70, L.date, False), (250, "Vår ref.:", True),
                          (310, L.ref, False)]))
    items.append(("row", [(0, "Deres dato:", True), (70, L.their_date, False),
                          (250, "Deres ref.:", True), (310, o.ref, False)]))
    items += [("l", ""), ("l", o.name), ("l", o.street), ("l", o.town), ("l", ""),
              ("l", f"Saksbehandler: {L.officer}"), ("l", "Direkte tlf.: 22 00 35 12"),
              ("l", "")]
    year = L.date[-4:]
    if L.kind == "receipt":
        e = L.entries[0]
        items += [
            ("b", "Bekreftelse på mottatt søknad"), ("l", ""),
            ("p", f"Vi bekrefter å ha mottatt deres søknad datert {L.their_date} om "
                  f"tilretteleggingsmidler for barnehageansatte som tar barnehagelærerutdanning. "
                  f"Søknaden gjelder {e[0]} ({e[1]}, {e[2]}), søkt beløp {nok(e[3])}."),
            ("l", ""),
            ("p", "Søknaden vil bli behandlet så snart som mulig, og vi tar sikte på å gi svar "
                  f"innen 1. juli {year}. Ta kontakt med saksbehandler dersom dere har spørsmål."),
            ("l", ""),
            ("p", "Dette er en automatisk bekreftelse og ikke et vedtak."),
        ]
    elif L.kind == "grant":
        names = ", ".join(e[0] for e in L.entries)
        items += [("b", f"Tildeling av tilretteleggingsmidler for barnehagelærerutdanning {year}"),
                  ("l", "")]
        items.append(("p", f"Vi viser til deres søknad datert {L.their_date} om "
                           "tilretteleggingsmidler for ansatte som tar barnehagelærerutdanning."))
        items.append(("l", ""))
        if len(L.entries) == 1:
            e = L.entries[0]
            if L.applied_sentence:
                items.append(("p", f"Dere søkte om {nok(e[3])} for {e[0]}."))
                items.append(("l", ""))
            items.append(("b", "Vedtak"))
            items.append(("p", f"{L.sender.split(' i ')[0]} tildeler {o.name} {nok(e[4])} i "
                               f"tilretteleggingsmidler for {e[0]}, som tar {e[1]} ved {e[2]}, "
                               f"for studieåret {year}/{int(year) + 1}."))
        else:
            items.append(("b", "Vedtak"))
            items.append(("p", f"{L.sender.split(' i ')[0]} tildeler {o.name} "
                               "tilretteleggingsmidler for følgende ansatte:"))
            for e in L.entries:
                items.append(("l", f"    {e[0]}, {e[1]}, {e[2]}: {nok(e[4])}"))
        items += [
            ("l", ""),
            ("p", "Midlene skal brukes til å tilrettelegge for at de ansatte kan gjennomføre "
                  "utdanningen, for eksempel til vikarutgifter, reise og studiemateriell. "
                  f"Midlene utbetales til kontonummeret som er oppgitt i søknaden innen 15. juli "
                  f"{year}."),
            ("l", ""), ("p", APPEAL),
        ]
        del names
    elif L.kind == "rejection":
        e = L.entries[0]
        items += [("b", f"Avslag på søknad om tilretteleggingsmidler - {e[0]}"), ("l", "")]
        items.append(("p", f"Vi viser til deres søknad datert {L.their_date} om "
                           "tilretteleggingsmidler for ansatte som tar barnehagelærerutdanning."))
        items.append(("l", ""))
        if L.applied_sentence:
            items.append(("p", f"Dere søkte om {nok(e[3])} for {e[0]}, som tar {e[1]} ved "
                               f"{e[2]}."))
            items.append(("l", ""))
        items += [
            ("p", f"{L.sender.split(' i ')[0]} har i {year} hatt langt flere søknader enn det er "
                  "midler til tildeling. Vi har prioritert ansatte som er i første studieår."),
            ("l", ""),
            ("b", "Vedtak"),
            ("p", f"Søknaden om tilretteleggingsmidler for {e[0]} avslås."),
            ("l", ""), ("p", APPEAL),
        ]
    elif L.kind == "table":
        items += [("b", f"Tildeling av tilretteleggingsmidler for barnehagelærerutdanning {year}"),
                  ("l", ""),
                  ("p", f"Vi viser til deres søknad datert {L.their_date} om "
                        "tilretteleggingsmidler for ansatte som tar barnehagelærerutdanning. "
                        "Søknaden er behandlet for hver ansatt slik tabellen viser."),
                  ("l", ""), ("b", "Vedtak"),
                  ("row", [(0, "Navn", True), (120, "Utdanning", True), (260, "Søkt beløp", True),
                           (340, "Vedtak", True), (410, "Tildelt beløp", True)])]
        for e in L.entries:
            items.append(("row", [(0, e[0], False), (120, e[1], False), (260, num(e[3]), False),
                                  (340, "Innvilget" if e[4] else "Avslag", False),
                                  (410, num(e[4]) if e[4] else "-", False)]))
        items += [
            ("l", ""),
            ("p", "Beløpene er oppgitt i kroner. Innvilgede midler utbetales til kontonummeret "
                  f"som er oppgitt i søknaden innen 15. juli {year}. For de ansatte som har fått "
                  "avslag, har vi prioritert ansatte som er i første studieår."),
            ("l", ""), ("p", APPEAL),
        ]
    else:
        raise ValueError(L.kind)
    boss = "Kari Hansen (e.f.)" if L.sender == SF else "Kari Hansen"
    items += [("l", ""), ("l", "Med hilsen"), ("l", ""),
              ("row", [(0, boss, False), (250, L.officer, False)]),
              ("row", [(0, "seksjonssjef", False), (250, "rådgiver", False)]),
              ("l", ""), ("l", "Dokumentet er elektronisk godkjent"), ("l", ""), ("l", ""),
              ("l", footer)]
    return items


def letter_pdf(L: Letter) -> bytes:
    return pdf_from_items(letter_items(L), title=f"{L.sender} {L.ref}")


def letter_plain(L: Letter) -> str:
    """The same letter as the text of an e-mail (forwarded letters)."""
    lines = []
    for kind, val in letter_items(L):
        if kind == "row":
            parts = []
            for _off, txt, _b in val:
                parts.append(txt)
            if val[0][1].endswith(":"):
                lines.append(f"{val[0][1]} {val[1][1]}    {val[2][1]} {val[3][1]}".rstrip())
            else:
                lines.append("    ".join(parts))
        elif kind == "p":
            lines += textwrap.wrap(val, 72) or [""]
        else:
            lines.append(val)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# MIME building (bodies are built with \n and converted to CRLF at the end)


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def b64_text(text: str, charset: str = "utf-8") -> str:
    return b64(text.encode(charset))


def ew(s: str, charset: str = "UTF-8", mode: str = "Q", chunk: int = 18) -> str:
    """RFC 2047 encoded words, folded; ASCII-only text is returned as is."""
    if all(ord(c) < 128 for c in s):
        return s
    words = []
    for i in range(0, len(s), chunk):
        piece = s[i:i + chunk].encode(charset)
        if mode == "B":
            enc = base64.b64encode(piece).decode()
        else:
            enc = ""
            for byte in piece:
                ch = chr(byte)
                if ch == " ":
                    enc += "_"
                elif ch.isalnum() and byte < 128:
                    enc += ch
                elif ch in "-.,:/" and byte < 128:
                    enc += ch
                else:
                    enc += f"={byte:02X}"
        words.append(f"=?{charset}?{mode}?{enc}?=")
    return "\n ".join(words)


def hdrs(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{k}: {v}\n" for k, v in pairs)


def leaf(headers: list[tuple[str, str]], body: str) -> str:
    if not body.endswith("\n"):
        body += "\n"
    return hdrs(headers) + "\n" + body


def multipart(boundary: str, parts: list[str], preamble: str = "", close: bool = True) -> str:
    out = preamble
    for p in parts:
        out += f"--{boundary}\n" + p
        if not out.endswith("\n"):
            out += "\n"
    if close:
        out += f"--{boundary}--\n"
    return out


def message(top: list[tuple[str, str]], body: str, crlf: bool = True) -> bytes:
    text = hdrs(top) + "\n" + body
    assert all(ord(c) < 128 for c in text), "8-bit characters in a 7-bit message"
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode("ascii")


def pdf_part_gmail(data: bytes, filename: str, att_id: str) -> str:
    return leaf([("Content-Type", f'application/pdf; name="{filename}"'),
                 ("Content-Disposition", f'attachment; filename="{filename}"'),
                 ("Content-Transfer-Encoding", "base64"),
                 ("Content-ID", f"<{att_id}>"),
                 ("X-Attachment-Id", att_id)], b64(data))


def pdf_part_outlook(data: bytes, filename: str, date: str) -> str:
    enc = ew(filename, "iso-8859-1", "Q", 40) if any(ord(c) > 127 for c in filename) else filename
    return leaf([("Content-Type", f'application/pdf; name="{enc}"'),
                 ("Content-Description", enc),
                 ("Content-Disposition",
                  f'attachment; filename="{enc}"; size={len(data)};\n'
                  f'\tcreation-date="{date}";\n\tmodification-date="{date}"'),
                 ("Content-Transfer-Encoding", "base64")], b64(data))


def pdf_part_apple(data: bytes, filename: str) -> str:
    return leaf([("Content-Disposition", f'attachment;\n\tfilename="{filename}"'),
                 ("Content-Type", f'application/pdf;\n\tx-unix-mode=0644;\n\tname="{filename}"'),
                 ("Content-Transfer-Encoding", "base64")], b64(data))


def pdf_part_tb(data: bytes, filename: str) -> str:
    return leaf([("Content-Type", f'application/pdf;\n name="{filename}"'),
                 ("Content-Transfer-Encoding", "base64"),
                 ("Content-Disposition", f'attachment;\n filename="{filename}"')], b64(data))


def png_bytes(width: int, height: int, seed: int) -> bytes:
    """A small grey PNG (a photo/screenshot stand-in, or a signature logo)."""
    raw = b""
    for y in range(height):
        raw += b"\x00" + bytes(((x * 7 + y * 3 + seed) % 64) + 160 for x in range(width))

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def docx_bytes(paragraphs: list[str], table: list[list[str]], after: list[str]) -> bytes:
    def esc(s: str) -> str:
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def para(s: str, bold: bool = False) -> str:
        rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
        if not s:
            return "<w:p/>"
        return f'<w:p><w:r>{rpr}<w:t xml:space="preserve">{esc(s)}</w:t></w:r></w:p>'

    body = [para(paragraphs[0], True)] + [para(p) for p in paragraphs[1:]]
    rows = []
    for r in table:
        cells = "".join(f'<w:tc><w:tcPr><w:tcW w:w="1800" w:type="dxa"/></w:tcPr>{para(c)}</w:tc>'
                        for c in r)
        rows.append(f"<w:tr>{cells}</w:tr>")
    body.append('<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
                '</w:tblPr><w:tblGrid>' + '<w:gridCol w:w="1800"/>' * len(table[0]) +
                "</w:tblGrid>" + "".join(rows) + "</w:tbl>")
    body += [para(p) for p in after]
    document = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                "<w:body>" + "".join(body) +
                '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>')
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="word/document.xml"/></Relationships>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("[Content_Types].xml", content_types), ("_rels/.rels", rels),
                           ("word/document.xml", document)):
            info = zipfile.ZipInfo(name, date_time=(2020, 8, 20, 13, 37, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data.encode("utf-8"))
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Client-specific envelopes


def to_post() -> tuple[str, str]:
    return ("To", '"post@asker.kommune.no" <post@asker.kommune.no>')


def received(date: str, host: str) -> tuple[str, str]:
    return ("Received", f"from {host} by mx01.asker.kommune.no with ESMTPS id 4BX3k21q7Kz9rxM;\n"
                        f"\t{date}")


def outlook365_top(o: Owner, subject: str, date: str, mid: str, tindex: str, ctype: str,
                   has_attach: bool) -> list[tuple[str, str]]:
    return [
        ("Return-Path", f"<{o.email}>"),
        received(date, "EUR05-DB8-obe.outbound.protection.outlook.com"),
        ("From", f"{ew(o.contact, 'iso-8859-1')} <{o.email}>"),
        to_post(),
        ("Subject", ew(subject, "iso-8859-1", "Q", 24)),
        ("Thread-Topic", ew(subject, "iso-8859-1", "Q", 24)),
        ("Thread-Index", tindex),
        ("Date", date),
        ("Message-ID", f"<{mid}>"),
        ("Accept-Language", "nb-NO, en-US"),
        ("Content-Language", "nb-NO"),
        ("X-MS-Has-Attach", "yes" if has_attach else ""),
        ("X-MS-TNEF-Correlator", ""),
        ("x-ms-exchange-messagesentrepresentingtype", "1"),
        ("Content-Type", ctype),
        ("MIME-Version", "1.0"),
    ]


def gmail_top(o: Owner, subject: str, date: str, mid: str, ctype: str) -> list[tuple[str, str]]:
    return [
        ("Return-Path", f"<{o.email}>"),
        received(date, "mail-lj1-f177.google.com (mail-lj1-f177.google.com [209.85.208.177])"),
        ("MIME-Version", "1.0"),
        ("From", f"{ew(o.contact)} <{o.email}>"),
        ("Date", date),
        ("Message-ID", f"<{mid}@mail.gmail.com>"),
        ("Subject", ew(subject)),
        ("To", "post@asker.kommune.no"),
        ("Content-Type", ctype),
    ]


def apple_top(o: Owner, subject: str, date: str, mid: str, ctype: str, ios: bool = False):
    h = [("Return-Path", f"<{o.email}>"),
         received(date, "smtp.domeneshop.no (smtp.domeneshop.no [194.63.252.54])"),
         ("Content-Type", ctype)]
    if ios:
        h += [("Content-Transfer-Encoding", "7bit"),
              ("From", f"{ew(o.contact)} <{o.email}>"),
              ("Mime-Version", "1.0 (1.0)"), ("Subject", ew(subject)), ("Date", date),
              ("Message-Id", f"<{mid}>"), ("To", "post@asker.kommune.no"),
              ("X-Mailer", "iPhone Mail (17G80)")]
    else:
        h += [("Mime-Version", "1.0 (Mac OS X Mail 13.4 \\(3608.120.23.2.4\\))"),
              ("Subject", ew(subject)), ("From", f"{ew(o.contact)} <{o.email}>"),
              ("Date", date), ("Message-Id", f"<{mid}>"), ("To", "post@asker.kommune.no"),
              ("X-Mailer", "Apple Mail (2.3608.120.23.2.4)")]
    return h


def thunderbird_top(o: Owner, subject: str, date: str, mid: str, ctype: str,
                    charset: str = "UTF-8"):
    return [("Return-Path", f"<{o.email}>"),
            received(date, "mail.altibox.no (mail.altibox.no [109.247.116.12])"),
            ("Subject", ew(subject, charset, "Q", 20)),
            ("To", "post@asker.kommune.no"),
            ("From", f"{ew(o.contact, charset)} <{o.email}>"),
            ("Message-ID", f"<{mid}>"),
            ("Date", date),
            ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:68.0) Gecko/20100101\n"
                           " Thunderbird/68.11.0"),
            ("MIME-Version", "1.0"),
            ("Content-Type", ctype),
            ("Content-Language", "nb")]


def html_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def outlook_html(paragraphs: list[str], table: list[list[str]] | None = None,
                 after: list[str] | None = None) -> str:
    head = ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:'
            'office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://'
            'schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">\n'
            '<head>\n<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">\n'
            '<meta name="Generator" content="Microsoft Word 15 (filtered medium)">\n'
            '<style><!--\n/* Font Definitions */\n@font-face\n\t{font-family:Calibri;\n'
            '\tpanose-1:2 15 5 2 2 2 4 3 2 4;}\n/* Style Definitions */\n'
            'p.MsoNormal, li.MsoNormal, div.MsoNormal\n\t{margin:0cm;\n\tfont-size:11.0pt;\n'
            '\tfont-family:"Calibri",sans-serif;\n\tmso-fareast-language:EN-US;}\n'
            'table.MsoTableGrid\n\t{mso-style-priority:39;\n\tborder:solid windowtext 1.0pt;}\n'
            '--></style>\n</head>\n<body lang="NO-BOK" link="#0563C1" vlink="#954F72" '
            'style="word-wrap:break-word">\n<div class="WordSection1">\n')
    body = ""
    for p in paragraphs:
        body += (f'<p class="MsoNormal">{html_escape(p)}<o:p></o:p></p>\n' if p else
                 '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n')
    if table:
        body += ('<table class="MsoTableGrid" border="1" cellspacing="0" cellpadding="0" '
                 'style="border-collapse:collapse;border:none">\n<tbody>\n')
        for r in table:
            body += "<tr>\n"
            for c in r:
                body += ('<td width="120" valign="top" style="width:90.0pt;border:solid windowtext'
                         ' 1.0pt;padding:0cm 5.4pt 0cm 5.4pt">\n'
                         f'<p class="MsoNormal">{html_escape(c)}<o:p></o:p></p>\n</td>\n')
            body += "</tr>\n"
        body += "</tbody>\n</table>\n"
    for p in after or []:
        body += (f'<p class="MsoNormal">{html_escape(p)}<o:p></o:p></p>\n' if p else
                 '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n')
    return head + body + "</div>\n</body>\n</html>\n"


def simple_html(text: str) -> str:
    out = '<div dir="ltr">'
    for line in text.rstrip("\n").split("\n"):
        out += f"<div>{html_escape(line)}</div>" if line else "<div><br></div>"
    return out + "</div>\n"


# ---------------------------------------------------------------------------------------------
# Expected results


def app(o: Owner, lines: list[dict], org_number: str | None = None,
        email: str | None = None) -> dict:
    return {"owner": o.name, "org_number": org_number or o.org,
            "contact_email": email or o.email, "lines": lines}


def fl(employee, programme, cost, status, grant=None) -> dict:
    return {"employee": employee, "programme": programme, "cost": cost, "state_status": status,
            "state_grant": grant}


def dl(employee, outcome, amount, reason_code=None) -> dict:
    d = {"employee": employee, "outcome": outcome, "amount": amount}
    if reason_code:
        d["reason_code"] = reason_code
    return d


def lt(kind, amounts, filename=None) -> dict:
    d = {}
    if filename is not None:
        d["filename"] = filename
    d["kind"] = kind
    d["amounts"] = amounts
    return d


def decision(status, rnd, total, lines) -> dict:
    return {"status": status, "round": rnd, "total": total, "lines": lines}


def expected(application, letters, dec, flags, received=None) -> dict:
    e = {}
    if received:
        e["_received"] = received
    e.update({"case_number_found": True, "ignored_reason": None, "application": application,
              "letters": letters, "decision": dec, "flags": flags})
    return e


def ignored(reason, found) -> dict:
    return {"case_number_found": found, "ignored_reason": reason,
            "decision": {"status": "ignored"}, "flags": []}


# ---------------------------------------------------------------------------------------------
# The cases

CASES = []  # (name, description, eml bytes, expected dict)
PDFS = {}  # name -> bytes, for --check


def case(name: str, description: str):
    def wrap(fn):
        eml, exp = fn()
        assert len(eml) < MAX_EML, f"{name}: {len(eml)} bytes"
        CASES.append((name, description, eml, exp))
        return fn
    return wrap


def keep_pdf(key: str, data: bytes) -> bytes:
    PDFS[key] = data
    return data


R1, R2 = "2020-09-01", "2020-12-01"
GREETING_SIG = "\nMed vennlig hilsen\n"


@case("01-outlook-single-ablu",
      "Outlook 365 (Windows), text+HTML alternative in iso-8859-1 QP; one ABLU line, state granted "
      "40 000 of 95 000; grant PDF -> approved 55 000")
def c01():
    o = OWNERS["sol"]
    rows = [["Ingrid Solberg", "ABLU", "OsloMet", "95 000", "40 000"]]
    form = form_text(o, rows)
    intro = "Hei,\n\nVedlagt er søknad om tilretteleggingstilskudd for 2020, med tildelingsbrev fra Statsforvalteren.\n\n"
    sig = f"\nMed vennlig hilsen\n{o.contact}\nStyrer, {o.kindergarten}\nTlf. 915 48 221\n"
    plain = intro + form + sig
    html = outlook_html(intro.rstrip("\n").split("\n") + [""] + form.rstrip("\n").split("\n") +
                        sig.split("\n"))
    L = Letter("grant", o, "24.06.2020", "2020/12345",
               [("Ingrid Solberg", "arbeidsplassbasert barnehagelærerutdanning (ABLU)", "OsloMet",
                 95000, 40000)])
    pdf = keep_pdf("01", letter_pdf(L))
    bid = "HE1PR0701MB2297C3B1E0F2A8D9B1C5E2F5D95C0HE1PR0701MB2297eurp_"
    alt = multipart(f"_000_{bid}", [
        leaf([("Content-Type", 'text/plain; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "iso-8859-1")),
        leaf([("Content-Type", 'text/html; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    date = "Mon, 17 Aug 2020 09:14:22 +0200"
    body = multipart(f"_004_{bid}", [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="_000_{bid}"')], alt),
        pdf_part_outlook(pdf, "Tildelingsbrev 2020_12345.pdf", date),
    ])
    top = outlook365_top(o, "Søknad tilretteleggingstilskudd - sak 20/30298", date,
                         "HE1PR0701MB2297C3B1E0F2A8D9B1C5E2F5D95C0@HE1PR0701MB2297.eurprd07.prod.outlook.com",
                         "AdZ0bGh2X3Jk7nNhQ0yB5mVtc2Y9xw==",
                         f'multipart/mixed;\n\tboundary="_004_{bid}"', True)
    exp = expected(app(o, [fl("Ingrid Solberg", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev 2020_12345.pdf")],
                   decision("decided", R1, 55000,
                            [dl("Ingrid Solberg", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("02-gmail-grant-and-rejection",
      "Gmail web, UTF-8 QP; ABLU granted 40 000 + BLU deltid rejected, two PDFs naming each "
      "employee -> 55 000 + 60 000")
def c02():
    o = OWNERS["bla"]
    rows = [["Marte Kristiansen", "ABLU", "OsloMet", "95 000", "40 000"],
            ["Jonas Berg", "Barnehagelærerutdanning deltid", "USN", "60 000", "avslag"]]
    text = ("Hei!\n\nHer kommer søknaden vår om tilretteleggingstilskudd. Tildelingsbrev og "
            "avslagsbrev fra\nStatsforvalteren ligger vedlagt.\n\n" + form_text(o, rows) +
            f"\nVennlig hilsen\n{o.contact}\n{o.kindergarten}\n")
    g = Letter("grant", o, "19.06.2020", "2020/11873",
               [("Marte Kristiansen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet",
                 95000, 40000)], their_date="02.03.2020")
    r = Letter("rejection", o, "19.06.2020", "2020/11874",
               [("Jonas Berg", "barnehagelærerutdanning deltid", "Universitetet i Sørøst-Norge",
                 60000, None)], their_date="02.03.2020")
    pg, pr = keep_pdf("02a", letter_pdf(g)), keep_pdf("02b", letter_pdf(r))
    b_mix, b_alt = "000000000000a3c1f705ad3f1b2e", "000000000000a3c1f605ad3f1b2c"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pg, "Tildelingsbrev Marte Kristiansen.pdf", "f_kdz9x1q40"),
        pdf_part_gmail(pr, "Avslag Jonas Berg.pdf", "f_kdz9x1q71"),
    ])
    top = gmail_top(o, "Søknad om tilretteleggingstilskudd 20/30298 - Blåbærtoppen",
                    "Tue, 18 Aug 2020 13:02:47 +0200",
                    "CAJx3fN8qK1vP2bS0mR+UoZ7Hh4tWfLx9e3cE1dYQm5gT_Ak2Qw", 
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Marte Kristiansen", "ABLU", 95000, "granted", 40000),
                           fl("Jonas Berg", "BLU_DELTID", 60000, "rejected", None)]),
                   [lt("grant", [40000], "Tildelingsbrev Marte Kristiansen.pdf"),
                    lt("rejection", [], "Avslag Jonas Berg.pdf")],
                   decision("decided", R1, 115000,
                            [dl("Marte Kristiansen", "approved", 55000, "state_granted_remainder"),
                             dl("Jonas Berg", "approved", 60000, "state_rejected_cap")]),
                   [])
    return message(top, body), exp


@case("03-outlook-mac-five-lines-table-letter",
      "Outlook for Mac; five lines, one state letter PDF with a table (applied and granted "
      "columns, mixed grants/rejections) -> 55 000 + 40 000 + 60 000 + 75 000 + 65 000")
def c03():
    o = OWNERS["heg"]
    rows = [["Lise Haugen", "ABLU", "OsloMet", "95 000", "40 000"],
            ["Nora Lie", "ABLU", "OsloMet", "80 000", "40 000"],
            ["Emil Dahl", "BLU deltid", "USN", "60 000", "avslag"],
            ["Sara Moen", "BLU deltid", "USN", "90 000", "avslått"],
            ["Tobias Strand", "Arbeidsplassbasert barnehagelærerutdanning", "Nord universitet",
             "95 000", "30 000"]]
    text = ("Hei\n\nVi søker om tilretteleggingstilskudd for fem ansatte, se skjema under. "
            "Vedtaket fra Statsforvalteren er vedlagt.\n\n" + form_text(o, rows) +
            f"\nMvh\n{o.contact}\nDaglig leder, {o.name}\n")
    L = Letter("table", o, "26.06.2020", "2020/13002",
               [("Lise Haugen", "ABLU", "", 95000, 40000), ("Nora Lie", "ABLU", "", 80000, 40000),
                ("Emil Dahl", "BLU deltid", "", 60000, None),
                ("Sara Moen", "BLU deltid", "", 90000, None),
                ("Tobias Strand", "ABLU", "", 95000, 30000)], their_date="28.02.2020")
    pdf = keep_pdf("03", letter_pdf(L))
    b = "B_3681027367_1238528474"
    ba = "B_3681027367_1040518331"
    alt = multipart(ba, [
        leaf([("Content-type", 'text/plain;\n\tcharset="UTF-8"'),
              ("Content-transfer-encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-type", 'text/html;\n\tcharset="UTF-8"'),
              ("Content-transfer-encoding", "quoted-printable")],
             qp("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
                "charset=utf-8\"></head><body>" + simple_html(text) + "</body></html>\n", "utf-8")),
    ])
    body = multipart(b, [
        leaf([("Content-type", f'multipart/alternative;\n\tboundary="{ba}"')], alt),
        leaf([("Content-type", 'application/pdf; name="Vedtak tilretteleggingsmidler 2020.pdf"'),
              ("Content-disposition", 'attachment;\n\tfilename="Vedtak tilretteleggingsmidler 2020.pdf"'),
              ("Content-transfer-encoding", "base64")], b64(pdf)),
    ], preamble="> This message is in MIME format. Since your mail reader does not understand\n"
                "this format, some or all of this message may not be legible.\n\n")
    date = "Wed, 19 Aug 2020 10:41:07 +0200"
    top = [("Return-Path", f"<{o.email}>"), received(date, "smtp.office365.com"),
           ("User-Agent", "Microsoft-MacOutlook/16.40.20081000"),
           ("Date", date), ("Subject", ew("Søknad tilretteleggingstilskudd, fem ansatte (20/30298)")),
           ("From", f"Geir Mathisen <{o.email}>"), ("To", "<post@asker.kommune.no>"),
           ("Message-ID", "<7A2E45C1-90B3-4C1F-8E2D-4B6A1F3C9D08@heggedalbhg.no>"),
           ("Thread-Topic", ew("Søknad tilretteleggingstilskudd, fem ansatte (20/30298)")),
           ("Mime-version", "1.0"),
           ("Content-type", f'multipart/mixed;\n\tboundary="{b}"')]
    exp = expected(app(o, [fl("Lise Haugen", "ABLU", 95000, "granted", 40000),
                           fl("Nora Lie", "ABLU", 80000, "granted", 40000),
                           fl("Emil Dahl", "BLU_DELTID", 60000, "rejected", None),
                           fl("Sara Moen", "BLU_DELTID", 90000, "rejected", None),
                           fl("Tobias Strand", "ABLU", 95000, "granted", 30000)]),
                   [lt("grant", [40000, 40000, 30000], "Vedtak tilretteleggingsmidler 2020.pdf")],
                   decision("decided", R1, 295000,
                            [dl("Lise Haugen", "approved", 55000, "state_granted_remainder"),
                             dl("Nora Lie", "approved", 40000, "state_granted_remainder"),
                             dl("Emil Dahl", "approved", 60000, "state_rejected_cap"),
                             dl("Sara Moen", "approved", 75000, "state_rejected_cap"),
                             dl("Tobias Strand", "approved", 65000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("04-applemail-rejection-capped",
      "Apple Mail (macOS), LF line endings; BLU deltid, cost 90 000, state rejected -> capped "
      "at 75 000")
def c04():
    o = OWNERS["kan"]
    rows = [["Camilla Rønning", "Barnehagelærerutdanning – deltid", "OsloMet", "kr 90 000,-",
             "avslag"]]
    text = ("Hei,\n\nSøknad om tilretteleggingstilskudd for vår ansatte Camilla Rønning. Hun fikk "
            "avslag fra Statsforvalteren, brevet ligger ved.\n\n" + form_text(o, rows) +
            f"\nHilsen Lene\n\nLene Fjeld\nStyrer, Kanutten barnehage\n")
    r = Letter("rejection", o, "22.06.2020", "2020/12877",
               [("Camilla Rønning", "barnehagelærerutdanning deltid", "OsloMet", 90000, None)],
               their_date="10.03.2020")
    pdf = keep_pdf("04", letter_pdf(r))
    b = "Apple-Mail=_2C9B4E1A-5F37-4D8C-A1E6-7B0D3F92C514"
    body = multipart(b, [
        leaf([("Content-Transfer-Encoding", "quoted-printable"),
              ("Content-Type", "text/plain;\n\tcharset=utf-8")], qp(text, "utf-8")),
        pdf_part_apple(pdf, "Avslag tilretteleggingsmidler.pdf"),
    ])
    top = apple_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Thu, 20 Aug 2020 21:17:55 +0200",
                    "2C9B4E1A-5F37-4D8C-A1E6-7B0D3F92C514@kanutten.no",
                    f'multipart/mixed;\n\tboundary="{b}"')
    exp = expected(app(o, [fl("Camilla Rønning", "BLU_DELTID", 90000, "rejected", None)]),
                   [lt("rejection", [], "Avslag tilretteleggingsmidler.pdf")],
                   decision("decided", R1, 75000,
                            [dl("Camilla Rønning", "approved", 75000, "state_rejected_cap")]),
                   [])
    return message(top, body, crlf=False), exp


@case("05-thunderbird-other-programme",
      "Thunderbird; one line 'Videreutdanning i barnehagepedagogikk' (OTHER, no letter, not on "
      "roster) -> rejected programme_not_eligible; the ABLU line with its letter approved")
def c05():
    o = OWNERS["vet"]
    rows = [["Kristian Aas", "ABLU", "OsloMet", "95 000", "45 000"],
            ["Hanne Vik", "Videreutdanning i barnehagepedagogikk", "Dronning Mauds Minne",
             "30 000", "ikke mottatt"]]
    text = ("Hei,\n\nSøknad om tilretteleggingstilskudd for to ansatte. Tildelingsbrev for "
            "Kristian er vedlagt.\n\n" + form_text(o, rows) + f"\nMvh\n{o.contact}\n")
    g = Letter("grant", o, "25.06.2020", "2020/12990",
               [("Kristian Aas", "arbeidsplassbasert barnehagelærerutdanning (ABLU)", "OsloMet",
                 95000, 45000)])
    pdf = keep_pdf("05", letter_pdf(g))
    b = "------------5E1F2B7A9C3D4E6F80A1B2C3"
    body = multipart(b, [
        leaf([("Content-Type", "text/plain; charset=UTF-8; format=flowed"),
              ("Content-Transfer-Encoding", "quoted-printable")],
             qp(text, "utf-8")),
        pdf_part_tb(pdf, "Tildelingsbrev_Kristian_Aas.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "Søknad tilretteleggingstilskudd 20/30298",
                          "Fri, 21 Aug 2020 08:03:12 +0200",
                          "5f8c1c1e-3b4a-2d6e-9a0b-1c2d3e4f5a6b@vettregard.no",
                          f'multipart/mixed;\n boundary="{b}"')
    exp = expected(app(o, [fl("Kristian Aas", "ABLU", 95000, "granted", 45000),
                           fl("Hanne Vik", "OTHER", 30000, "unknown", None)]),
                   [lt("grant", [45000], "Tildelingsbrev_Kristian_Aas.pdf")],
                   decision("decided", R1, 50000,
                            [dl("Kristian Aas", "approved", 50000, "state_granted_remainder"),
                             dl("Hanne Vik", "rejected", 0, "programme_not_eligible")]),
                   [])
    return message(top, body), exp


@case("06-gmail-not-on-roster",
      "Gmail web; two ABLU lines, one letter naming both; Thomas Berntsen is not on the 2020 "
      "roster -> not_on_roster, line flagged, the other approved")
def c06():
    o = OWNERS["eve"]
    rows = [["Silje Nilsen", "ABLU", "OsloMet", "95 000", "40 000"],
            ["Thomas Berntsen", "ABLU", "OsloMet", "95 000", "35 000"]]
    text = ("Hei,\n\nHer er søknaden om tilretteleggingstilskudd for høsten. Thomas startet "
            "på ABLU i august.\n\n" + form_text(o, rows) + f"\nHilsen\n{o.contact}\n")
    g = Letter("grant", o, "30.06.2020", "2020/13110",
               [("Silje Nilsen", "ABLU", "OsloMet", 95000, 40000),
                ("Thomas Berntsen", "ABLU", "OsloMet", 95000, 35000)])
    pdf = keep_pdf("06", letter_pdf(g))
    b_mix, b_alt = "0000000000007d2e1b05ad4c8e51", "0000000000007d2e1a05ad4c8e4f"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Tildeling 2020-13110.pdf", "f_ke1b2c3d0"),
    ])
    top = gmail_top(o, "Tilretteleggingstilskudd 20/30298", "Mon, 24 Aug 2020 11:20:31 +0200",
                    "CAHv2Xq7Ld4kN+8pW1sZ0cJ9Ty3uMbR6eF5gA2hKx0oVn1SQ7Lw",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Silje Nilsen", "ABLU", 95000, "granted", 40000),
                           fl("Thomas Berntsen", "ABLU", 95000, "granted", 35000)]),
                   [lt("grant", [40000, 35000], "Tildeling 2020-13110.pdf")],
                   decision("flagged", R1, 55000,
                            [dl("Silje Nilsen", "approved", 55000, "state_granted_remainder"),
                             dl("Thomas Berntsen", "flagged", 0, "not_on_roster")]),
                   ["not_on_roster"])
    return message(top, body), exp


@case("07-iphone-no-letter",
      "iPhone Mail, single text/plain part; state column 'ikke mottatt', nothing attached -> "
      "line pending, needs_documentation")
def c07():
    o = OWNERS["tro"]
    rows = [["Maria Olsen", "ABLU", "OsloMet", "95 000", "ikke mottatt"]]
    text = ("Hei\nSender søknaden nå så vi rekker fristen. Vi har ikke fått svar fra "
            "Statsforvalteren ennå, ettersender brevet.\n\n" + form_text(o, rows) +
            "\nSendt fra min iPhone\n")
    top = apple_top(o, "Søknad 20/30298 Trollstua", "Sat, 29 Aug 2020 22:48:10 +0200",
                    "9D1E7C2B-4A3F-4B6E-8C5D-0E1F2A3B4C5D@trollstua.no",
                    "text/plain;\n\tcharset=utf-8", ios=True)
    top = [(k, "quoted-printable" if k == "Content-Transfer-Encoding" else v) for k, v in top]
    exp = expected(app(o, [fl("Maria Olsen", "ABLU", 95000, "unknown", None)]), [],
                   decision("needs_documentation", R1, 0,
                            [dl("Maria Olsen", "pending", 0, "documentation_missing")]),
                   [])
    return message(top, qp(text, "utf-8")), exp


@case("08-owa-amount-mismatch",
      "Outlook on the web; form says 40 000 granted, the letter (which also names the 95 000 "
      "applied for) grants 35 000 -> amount_mismatch, flagged")
def c08():
    o = OWNERS["nes"]
    rows = [["Henrik Johansen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei,\n\nSøknad om tilretteleggingstilskudd, se under.\n\n" + form_text(o, rows) + \
        f"\nMed vennlig hilsen\n{o.contact}\n{o.name}\n"
    g = Letter("grant", o, "29.06.2020", "2020/13087",
               [("Henrik Johansen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet",
                 95000, 35000)])
    pdf = keep_pdf("08", letter_pdf(g))
    bid = "AM6PR04MB5431B2E3C8F1A0D6E4C7B9A2D95C1AM6PR04MB5431eurp_"
    html = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
            '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} '
            '</style>\n</head>\n<body dir="ltr">\n' +
            "".join(f'<div style="font-family: Calibri, Arial, Helvetica, sans-serif; '
                    f'font-size: 12pt; color: rgb(0, 0, 0);">\n{html_escape(x) or "<br>"}</div>\n'
                    for x in text.rstrip("\n").split("\n")) + "</body>\n</html>\n")
    alt = multipart(f"_000_{bid}", [
        leaf([("Content-Type", 'text/plain; charset="utf-8"'),
              ("Content-Transfer-Encoding", "base64")], b64_text(text)),
        leaf([("Content-Type", 'text/html; charset="utf-8"'),
              ("Content-Transfer-Encoding", "base64")], b64_text(html)),
    ])
    date = "Tue, 25 Aug 2020 07:55:40 +0000"
    body = multipart(f"_004_{bid}", [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="_000_{bid}"')], alt),
        pdf_part_outlook(pdf, "Tildelingsbrev.pdf", date),
    ])
    top = outlook365_top(o, "Søknad om tilretteleggingstilskudd (sak 20/30298)", date,
                         "AM6PR04MB5431B2E3C8F1A0D6E4C7B9A2D95C1@AM6PR04MB5431.eurprd04.prod.outlook.com",
                         "AQHWerTj2yW0Qmh1UkqP5X3cZbFkqQ==",
                         f'multipart/mixed;\n\tboundary="_004_{bid}"', True)
    top.insert(6, ("x-ms-traffictypediagnostic", "AM6PR04MB5431:"))
    exp = expected(app(o, [fl("Henrik Johansen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [35000], "Tildelingsbrev.pdf")],
                   decision("flagged", R1, 0,
                            [dl("Henrik Johansen", "flagged", 0, "amount_mismatch")]),
                   ["amount_mismatch"])
    return message(top, body), exp


@case("09-gmail-status-mismatch",
      "Gmail web; form says granted 40 000 but the attached letter is a rejection -> "
      "state_status_mismatch, flagged")
def c09():
    o = OWNERS["hva"]
    rows = [["Eva Karlsen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei\n\nSøknad om tilretteleggingstilskudd for Eva.\n\n" + form_text(o, rows) + \
        f"\nHilsen {o.contact}\n"
    r = Letter("rejection", o, "23.06.2020", "2020/12850",
               [("Eva Karlsen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 None)])
    pdf = keep_pdf("09", letter_pdf(r))
    b_mix, b_alt = "000000000000c41e2a05ad5a0f33", "000000000000c41e2905ad5a0f31"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Brev fra Statsforvalteren.pdf", "f_ke2k7m1p0"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Wed, 26 Aug 2020 14:30:02 +0200",
                    "CAOq1Lf5Hk2m9RsN7tPu0vW3xYz4aBc6dEf8gHi1jKl2mNo3pQr",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Eva Karlsen", "ABLU", 95000, "granted", 40000)]),
                   [lt("rejection", [], "Brev fra Statsforvalteren.pdf")],
                   decision("flagged", R1, 0,
                            [dl("Eva Karlsen", "flagged", 0, "state_status_mismatch")]),
                   ["state_status_mismatch"])
    return message(top, body), exp


@case("10-outlook-receipt-only",
      "Outlook 2016 (SMTP, NextPart boundaries); empty state cell; the only letter is a receipt "
      "('Bekreftelse på mottatt søknad', names the 60 000 applied for) -> pending")
def c10():
    o = OWNERS["bon"]
    rows = [["Julie Pedersen", "BLU deltid", "OsloMet", "60 000", ""]]
    text = ("Hei.\n\nVedlagt søknad om tilretteleggingstilskudd. Vi har søkt Statsforvalteren og "
            "legger ved bekreftelsen.\n\n" + form_text(o, rows) +
            f"\nMed vennlig hilsen\n{o.contact}\n")
    L = Letter("receipt", o, "16.03.2020", "2020/4471",
               [("Julie Pedersen", "barnehagelærerutdanning deltid", "OsloMet", 60000, None)],
               their_date="13.03.2020")
    pdf = keep_pdf("10", letter_pdf(L))
    b1 = "----=_NextPart_000_0017_01D67C2A.3E8B5F40"
    b2 = "----=_NextPart_001_0018_01D67C2A.3E8B5F40"
    html = outlook_html(text.rstrip("\n").split("\n"))
    alt = multipart(b2, [
        leaf([("Content-Type", 'text/plain;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "iso-8859-1")),
        leaf([("Content-Type", 'text/html;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    body = multipart(b1, [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="{b2}"')], alt),
        leaf([("Content-Type", 'application/pdf;\n\tname="Kvittering.pdf"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-Disposition", 'attachment;\n\tfilename="Kvittering.pdf"')], b64(pdf)),
    ], preamble="This is a multipart message in MIME format.\n\n")
    date = "Thu, 27 Aug 2020 12:06:51 +0200"
    top = [("Return-Path", f"<{o.email}>"), received(date, "smtp.bondistua.no"),
           ("From", f'"Per Arne Holm" <{o.email}>'), ("To", "<post@asker.kommune.no>"),
           ("Subject", ew("Søknad tilretteleggingstilskudd sak 20/30298", "iso-8859-1")),
           ("Date", date), ("Message-ID", "<001701d67c2a$3e8b5f40$bba21fc0$@bondistua.no>"),
           ("MIME-Version", "1.0"), ("Content-Type", f'multipart/mixed;\n\tboundary="{b1}"'),
           ("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdZ8KjQk1W5o6g0VQmyi2Nn7Xk3Lrw=="),
           ("Content-Language", "nb")]
    exp = expected(app(o, [fl("Julie Pedersen", "BLU_DELTID", 60000, "unknown", None)]),
                   [lt("unknown", [], "Kvittering.pdf")],
                   decision("needs_documentation", R1, 0,
                            [dl("Julie Pedersen", "pending", 0, "documentation_missing")]),
                   [])
    return message(top, body), exp


@case("11-gmail-scanned-letter",
      "Gmail web; the letter is a scanned PDF without text (only drawn shapes) -> "
      "unreadable_letter, the line flagged")
def c11():
    o = OWNERS["lin"]
    rows = [["Anette Hansen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = ("Hei,\n\nSøknad om tilretteleggingstilskudd. Tildelingsbrevet er skannet og "
            "vedlagt.\n\n" + form_text(o, rows) + f"\nHilsen\n{o.contact}\n")
    pdf = keep_pdf("11", pdf_scan())
    b_mix, b_alt = "000000000000f0e1d205ad6b7c99", "000000000000f0e1d105ad6b7c97"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Scan_20200702_101544.pdf", "f_ke3p9q2r0"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Fri, 28 Aug 2020 09:12:44 +0200",
                    "CABz9Yx8Wv7Ut6Sr5Qp4On3Ml2Kj1Ih0Gf9Ed8Cb7Aa6Zz5Yy4X",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Anette Hansen", "ABLU", 95000, "granted", 40000)]),
                   [lt("unknown", [], "Scan_20200702_101544.pdf")],
                   decision("flagged", R1, 0,
                            [dl("Anette Hansen", "flagged", 0, "unreadable_letter")]),
                   ["unreadable_letter"])
    return message(top, body), exp


@case("12-outlook-html-only-table",
      "Outlook HTML-only body (windows-1252 QP, MsoNormal, MsoTableGrid table) holding the form; "
      "grant PDF -> approved")
def c12():
    o = OWNERS["fje"]
    paras = ["Hei,", "", "Vedlagt tildelingsbrev. Søknaden følger her:", "", FORM_TITLE]
    paras += [f"{k}: {v}" for k, v in form_fields(o)]
    paras.append("")
    table = [TABLE_HEADER, ["Marius Eriksen", "ABLU", "OsloMet", "95 000", "40 000"]]
    after = ["", "Med vennlig hilsen", o.contact, "Daglig leder – Fjellstua Barnehage AS"]
    html = outlook_html(paras, table, after).replace("iso-8859-1", "windows-1252")
    g = Letter("grant", o, "24.06.2020", "2020/12366",
               [("Marius Eriksen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("12", letter_pdf(g))
    b1 = "----=_NextPart_000_0009_01D67D10.11A2B3C0"
    body = multipart(b1, [
        leaf([("Content-Type", 'text/html;\n\tcharset="windows-1252"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "cp1252")),
        leaf([("Content-Type", 'application/pdf;\n\tname="Tildelingsbrev Marius Eriksen.pdf"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-Disposition",
               'attachment;\n\tfilename="Tildelingsbrev Marius Eriksen.pdf"')], b64(pdf)),
    ], preamble="This is a multipart message in MIME format.\n\n")
    date = "Mon, 31 Aug 2020 15:22:09 +0200"
    top = [("Return-Path", f"<{o.email}>"), received(date, "smtp.fjellstua-bhg.no"),
           ("From", f'"Anders Wold" <{o.email}>'), ("To", "<post@asker.kommune.no>"),
           ("Subject", ew("Søknad om tilretteleggingstilskudd 20/30298", "windows-1252")),
           ("Date", date), ("Message-ID", "<000901d67d10$11a2b3c0$34e81b40$@fjellstua-bhg.no>"),
           ("MIME-Version", "1.0"), ("Content-Type", f'multipart/mixed;\n\tboundary="{b1}"'),
           ("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdZ9EBGiTWs4a0c1R4y0cFJx8uQ0gA=="),
           ("Content-Language", "nb")]
    exp = expected(app(o, [fl("Marius Eriksen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev Marius Eriksen.pdf")],
                   decision("decided", R1, 55000,
                            [dl("Marius Eriksen", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("13-thunderbird-latin1-alternative",
      "Thunderbird, multipart/alternative, ISO-8859-1 QP text/plain and an RFC 2047 "
      "ISO-8859-1 subject with 'Søknad'; name with Å/æ; BLU deltid rejected -> 45 000")
def c13():
    o = OWNERS["skj"]
    rows = [["Åse Kjærnes", "BLU deltid", "Universitetet i Sørøst-Norge", "45 000", "avslått"]]
    text = ("Hei,\n\nHer er søknad om tilretteleggingstilskudd for Åse Kjærnes. Avslaget fra "
            "Statsforvalteren er lagt ved.\n\n" + form_text(o, rows) +
            f"\nVennlig hilsen\n{o.contact}\nSkjærsol barnehage\n")
    r = Letter("rejection", o, "18.06.2020", "2020/11790",
               [("Åse Kjærnes", "barnehagelærerutdanning deltid", "Universitetet i Sørøst-Norge",
                 45000, None)])
    pdf = keep_pdf("13", letter_pdf(r))
    html = ('<html>\n  <head>\n    <meta http-equiv="content-type" content="text/html; '
            'charset=ISO-8859-1">\n  </head>\n  <body>\n    <p>' +
            "<br>\n".join(html_escape(x) for x in text.rstrip("\n").split("\n")) +
            "</p>\n  </body>\n</html>\n")
    b1, b2 = "------------0A1B2C3D4E5F60718293A4B5", "------------C6D7E8F90A1B2C3D4E5F6071"
    alt = multipart(b2, [
        leaf([("Content-Type", "text/plain; charset=ISO-8859-1; format=flowed"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "iso-8859-1")),
        leaf([("Content-Type", "text/html; charset=ISO-8859-1"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    body = multipart(b1, [
        leaf([("Content-Type", f'multipart/alternative;\n boundary="{b2}"')], alt),
        pdf_part_tb(pdf, "Avslag_2020_11790.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "Søknad tilretteleggingstilskudd - 20/30298",
                          "Tue, 01 Sep 2020 16:45:30 +0200",
                          "3c0ffee1-7d2a-4b9e-a1f3-5e6d7c8b9a01@skjaersol.no",
                          f'multipart/mixed;\n boundary="{b1}"', charset="ISO-8859-1")
    exp = expected(app(o, [fl("Åse Kjærnes", "BLU_DELTID", 45000, "rejected", None)]),
                   [lt("rejection", [], "Avslag_2020_11790.pdf")],
                   decision("decided", R1, 45000,
                            [dl("Åse Kjærnes", "approved", 45000, "state_rejected_cap")]),
                   [])
    return message(top, body), exp


@case("14-gmail-android-base64",
      "Gmail for Android, base64 UTF-8 text/plain (+HTML); grant PDF -> approved 55 000")
def c14():
    o = OWNERS["hol"]
    rows = [["Thea Larsen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei! Søknad om tilretteleggingstilskudd, brev fra Statsforvalteren vedlagt.\n\n" + \
        form_text(o, rows) + f"\nMona Brekke\nHolmen strand barnehage\n"
    g = Letter("grant", o, "24.06.2020", "2020/12401",
               [("Thea Larsen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)], applied_sentence=False)
    pdf = keep_pdf("14", letter_pdf(g))
    b_mix, b_alt = "00000000000092f3e405ad7c1d08", "00000000000092f3e305ad7c1d06"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "base64")], b64_text(text)),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "base64")], b64_text(simple_html(text))),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "IMG_tildeling.pdf", "17438a2c1f9e7b4d1c21"),
    ])
    top = gmail_top(o, "Søknad 20/30298", "Wed, 02 Sep 2020 07:31:18 +0200",
                    "CAMs7Bp1Qr9St2Uv3Wx4Yz5Ab6Cd7Ef8Gh9Ij0Kl1Mn2Op3Qr4S",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Thea Larsen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "IMG_tildeling.pdf")],
                   decision("decided", R2, 55000,
                            [dl("Thea Larsen", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("15-thunderbird-txt-attachment-rfc2231",
      "Thunderbird; the form is a .txt attachment with RFC 2231 filename "
      "'Søknad tilretteleggingstilskudd.txt', the body only a greeting; grant PDF")
def c15():
    o = OWNERS["sol"]
    rows = [["Kjersti Haug", "ABLU", "OsloMet", "95 000", "50 000"]]
    form = form_text(o, rows)
    text = ("Hei,\n\nVedlagt følger søknad om tilretteleggingstilskudd for Kjersti Haug, og "
            "tildelingsbrevet fra Statsforvalteren.\n\nMed vennlig hilsen\nKari Nordmann\n"
            "Solsikken barnehage\n")
    g = Letter("grant", o, "24.06.2020", "2020/12388",
               [("Kjersti Haug", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 50000)])
    pdf = keep_pdf("15", letter_pdf(g))
    b = "------------D2E3F405162738495A6B7C8D"
    fname_q = "=?UTF-8?Q?S=c3=b8knad_tilretteleggingstilskudd=2etxt?="
    body = multipart(b, [
        leaf([("Content-Type", "text/plain; charset=UTF-8; format=flowed"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", f'text/plain; charset=UTF-8;\n name="{fname_q}"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-Disposition",
               "attachment;\n filename*=UTF-8''S%C3%B8knad%20tilretteleggingstilskudd.txt")],
             b64_text(form)),
        pdf_part_tb(pdf, "Tildelingsbrev.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "Søknad tilretteleggingstilskudd 20/30298",
                          "Thu, 03 Sep 2020 10:10:10 +0200",
                          "a1b2c3d4-e5f6-4789-8abc-def012345678@solsikken-bhg.no",
                          f'multipart/mixed;\n boundary="{b}"')
    exp = expected(app(o, [fl("Kjersti Haug", "ABLU", 95000, "granted", 50000)]),
                   [lt("grant", [50000], "Tildelingsbrev.pdf")],
                   decision("decided", R2, 45000,
                            [dl("Kjersti Haug", "approved", 45000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("16-outlook-mac-form-pdf",
      "Outlook for Mac; the form is a PDF attachment (body just a greeting), the rejection letter "
      "another PDF -> approved 70 000")
def c16():
    o = OWNERS["bla"]
    rows = [["Ole Martin Bakken", "BLU deltid", "OsloMet", "70 000", "avslag"]]
    form_pdf = keep_pdf("16a", pdf_plain_text(form_text(o, rows), "Søknad"))
    r = Letter("rejection", o, "22.06.2020", "2020/12840",
               [("Ole Martin Bakken", "barnehagelærerutdanning deltid", "OsloMet", 70000, None)])
    pdf = keep_pdf("16b", letter_pdf(r))
    text = "Hei,\n\nSøknad og avslagsbrev er vedlagt.\n\nHilsen Trine\n"
    b = "B_3682112233_1974528013"
    body = multipart(b, [
        leaf([("Content-type", 'text/plain;\n\tcharset="UTF-8"'),
              ("Content-transfer-encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-type", 'application/pdf; name="Soknad tilretteleggingstilskudd.pdf"'),
              ("Content-disposition",
               'attachment;\n\tfilename="Soknad tilretteleggingstilskudd.pdf"'),
              ("Content-transfer-encoding", "base64")], b64(form_pdf)),
        leaf([("Content-type", 'application/pdf; name="Avslag Ole Martin.pdf"'),
              ("Content-disposition", 'attachment;\n\tfilename="Avslag Ole Martin.pdf"'),
              ("Content-transfer-encoding", "base64")], b64(pdf)),
    ], preamble="> This message is in MIME format. Since your mail reader does not understand\n"
                "this format, some or all of this message may not be legible.\n\n")
    date = "Fri, 04 Sep 2020 13:13:13 +0200"
    top = [("Return-Path", f"<{o.email}>"), received(date, "smtp.office365.com"),
           ("User-Agent", "Microsoft-MacOutlook/16.40.20081000"), ("Date", date),
           ("Subject", "Tilretteleggingstilskudd 20/30298"),
           ("From", f"{ew('Trine Aasen')} <{o.email}>"), ("To", "<post@asker.kommune.no>"),
           ("Message-ID", "<0C4D9A1E-2B3F-4E5A-8F7C-6D1E2A3B4C5E@blabaertoppen.no>"),
           ("Thread-Topic", "Tilretteleggingstilskudd 20/30298"), ("Mime-version", "1.0"),
           ("Content-type", f'multipart/mixed;\n\tboundary="{b}"')]
    exp = expected(app(o, [fl("Ole Martin Bakken", "BLU_DELTID", 70000, "rejected", None)]),
                   [lt("rejection", [], "Avslag Ole Martin.pdf")],
                   decision("decided", R2, 70000,
                            [dl("Ole Martin Bakken", "approved", 70000, "state_rejected_cap")]),
                   [])
    return message(top, body), exp


@case("17-gmail-form-docx",
      "Gmail web; the form is a DOCX attachment (paragraphs + w:tbl table), the grant letter a "
      "PDF -> approved 60 000")
def c17():
    o = OWNERS["heg"]
    paras = [FORM_TITLE] + [f"{k}: {v}" for k, v in form_fields(o)] + [""]
    table = [TABLE_HEADER, ["Hege Aune", "ABLU", "OsloMet", "95 000", "35 000"]]
    docx = docx_bytes(paras, table, ["", "Dato: 04.09.2020", "Underskrift: Geir Mathisen"])
    g = Letter("grant", o, "24.06.2020", "2020/12420",
               [("Hege Aune", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 35000)])
    pdf = keep_pdf("17", letter_pdf(g))
    text = "Hei\n\nSøknaden vår ligger vedlagt (Word) sammen med tildelingsbrevet.\n\nMvh Geir\n"
    b_mix, b_alt = "0000000000003a9b8c05ae0d2f11", "0000000000003a9b8b05ae0d2f0f"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    dname = "Søknad tilretteleggingstilskudd Heggedal.docx"
    denc = ew(dname, "UTF-8", "B", 40)
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        leaf([("Content-Type", "application/vnd.openxmlformats-officedocument.wordprocessingml."
                               f'document; \n\tname="{denc}"'),
              ("Content-Disposition", f'attachment; \n\tfilename="{denc}"'),
              ("Content-Transfer-Encoding", "base64"), ("Content-ID", "<f_kemq1w2e0>"),
              ("X-Attachment-Id", "f_kemq1w2e0")], b64(docx)),
        pdf_part_gmail(pdf, "Tildelingsbrev Hege Aune.pdf", "f_kemq1w2e1"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298 (Word)",
                    "Mon, 07 Sep 2020 08:45:00 +0200",
                    "CAPk2Lm3No4Pq5Rs6Tu7Vw8Xy9Za0Bc1De2Fg3Hi4Jk5Lm6No7P",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Hege Aune", "ABLU", 95000, "granted", 35000)]),
                   [lt("grant", [35000], "Tildelingsbrev Hege Aune.pdf")],
                   decision("decided", R2, 60000,
                            [dl("Hege Aune", "approved", 60000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("18-applemail-forwarded-rfc822-letter",
      "Apple Mail (macOS), LF endings; form in the body, the letter is the state's e-mail "
      "attached as message/rfc822 -> approved 55 000")
def c18():
    o = OWNERS["kan"]
    rows = [["Bjørn Øvrebø", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = ("Hei,\n\nSøknad om tilretteleggingstilskudd for Bjørn. E-posten fra Statsforvalteren "
            "med tildelingen er lagt ved.\n\n" + form_text(o, rows) + "\nHilsen Lene\n")
    g = Letter("grant", o, "26.06.2020", "2020/13050",
               [("Bjørn Øvrebø", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    inner_text = ("Til Kanutten Barnehage AS\n\nVedtaket gjengis nedenfor. Brevet er også sendt "
                  "til virksomhetens digitale postkasse.\n\n" + letter_plain(g))
    inner = message([
        ("Return-Path", "<sfovpost@statsforvalteren.no>"),
        ("From", f"{ew(SF, 'UTF-8')} <sfovpost@statsforvalteren.no>"),
        ("To", f"<{o.email}>"),
        ("Subject", ew("Tildeling av tilretteleggingsmidler - Bjørn Øvrebø")),
        ("Date", "Fri, 26 Jun 2020 10:15:00 +0200"),
        ("Message-ID", "<20200626081500.2020-13050.sfov@statsforvalteren.no>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(inner_text, "utf-8"), crlf=False).decode("ascii")
    b = "Apple-Mail=_8E4D1C2B-3A5F-4E6D-9C7B-1A2B3C4D5E6F"
    body = multipart(b, [
        leaf([("Content-Transfer-Encoding", "quoted-printable"),
              ("Content-Type", "text/plain;\n\tcharset=utf-8")], qp(text, "utf-8")),
        leaf([("Content-Disposition",
               'attachment;\n\tfilename="Tildeling av tilretteleggingsmidler.eml"'),
              ("Content-Type", 'message/rfc822;\n\tx-unix-mode=0644;\n\t'
                               'name="Tildeling av tilretteleggingsmidler.eml"'),
              ("Content-Transfer-Encoding", "7bit")], inner),
    ])
    top = apple_top(o, "Søknad tilretteleggingstilskudd 20/30298 - Bjørn Øvrebø",
                    "Tue, 08 Sep 2020 19:02:33 +0200",
                    "8E4D1C2B-3A5F-4E6D-9C7B-1A2B3C4D5E6F@kanutten.no",
                    f'multipart/mixed;\n\tboundary="{b}"')
    exp = expected(app(o, [fl("Bjørn Øvrebø", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000])],
                   decision("decided", R2, 55000,
                            [dl("Bjørn Øvrebø", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body, crlf=False), exp


@case("19-gmail-inline-forwarded-letter",
      "Gmail web; form on top, the state's rejection forwarded inline below "
      "('---------- Videresendt melding ---------', 'Fra: Statsforvalteren i Oslo og Viken') "
      "-> approved 70 000")
def c19():
    o = OWNERS["vet"]
    rows = [["Vilde Engen", "BLU deltid", "USN", "70 000", "avslag"]]
    r = Letter("rejection", o, "30.06.2020", "2020/13140",
               [("Vilde Engen", "barnehagelærerutdanning deltid", "USN", 70000, None)])
    text = ("Hei,\n\nSøknad om tilretteleggingstilskudd for Vilde Engen, se skjema. Avslaget fra "
            "Statsforvalteren er videresendt under.\n\n" + form_text(o, rows) +
            f"\nMvh\n{o.contact}\n\n---------- Videresendt melding ---------\n"
            f"Fra: {SF} <sfovpost@statsforvalteren.no>\n"
            "Date: tir. 30. jun. 2020 kl. 11:04\n"
            "Subject: Avslag på søknad om tilretteleggingsmidler - Vilde Engen\n"
            f"To: <{o.email}>\n\n\n" + letter_plain(r))
    b_alt = "000000000000e5d4c305ae1e3a72"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Wed, 09 Sep 2020 12:00:41 +0200",
                    "CAFw1Xe2Rd3Ct4Vb5Gy6Hn7Um8Ji9Ko0Lp1Az2Sx3Dc4Fv5Gb6H",
                    f'multipart/alternative; boundary="{b_alt}"')
    exp = expected(app(o, [fl("Vilde Engen", "BLU_DELTID", 70000, "rejected", None)]),
                   [lt("rejection", [])],
                   decision("decided", R2, 70000,
                            [dl("Vilde Engen", "approved", 70000, "state_rejected_cap")]),
                   [])
    return message(top, alt), exp


@case("20-outlook-fylkesmannen-letter",
      "Outlook 365; the grant letter is from 'Fylkesmannen i Oslo og Viken' (2020 wording) with an "
      "Org.nr. in its footer; grant 50 000 of 80 000 -> approved 30 000")
def c20():
    o = OWNERS["eve"]
    rows = [["Randi Sætre", "ABLU", "OsloMet", "80 000", "50 000"]]
    intro = "Hei,\n\nSøknad om tilretteleggingstilskudd for Randi Sætre. Tildelingsbrevet fra Fylkesmannen er vedlagt.\n\n"
    plain = intro + form_text(o, rows) + f"\nMed vennlig hilsen\n{o.contact}\n"
    html = outlook_html(plain.rstrip("\n").split("\n"))
    g = Letter("grant", o, "15.06.2020", "2020/11502",
               [("Randi Sætre", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 80000,
                 50000)], sender=FM, their_date="01.03.2020", officer="Nils Aasheim")
    pdf = keep_pdf("20", letter_pdf(g))
    bid = "DB7PR02MB4468E1F2A3B4C5D6E7F8091A2B3C4D5DB7PR02MB4468eurp_"
    alt = multipart(f"_000_{bid}", [
        leaf([("Content-Type", 'text/plain; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "iso-8859-1")),
        leaf([("Content-Type", 'text/html; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    date = "Thu, 10 Sep 2020 09:30:00 +0000"
    body = multipart(f"_004_{bid}", [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="_000_{bid}"')], alt),
        pdf_part_outlook(pdf, "Tildelingsbrev fra Fylkesmannen.pdf", date),
    ])
    top = outlook365_top(o, "Søknad tilretteleggingstilskudd 20/30298", date,
                         "DB7PR02MB4468E1F2A3B4C5D6E7F8091A2B3C4D5@DB7PR02MB4468.eurprd02.prod.outlook.com",
                         "AdaHF2k1m0s7Q1lXQ7e3rD2iYc6t4A==",
                         f'multipart/mixed;\n\tboundary="_004_{bid}"', True)
    exp = expected(app(o, [fl("Randi Sætre", "ABLU", 80000, "granted", 50000)]),
                   [lt("grant", [50000], "Tildelingsbrev fra Fylkesmannen.pdf")],
                   decision("decided", R2, 30000,
                            [dl("Randi Sætre", "approved", 30000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("21-subject-spaced-case-number",
      "Apple Mail; case number only in the subject as 'Sak 20 / 30298', the body form has no "
      "Saksnummer line -> recognised and approved")
def c21():
    o = OWNERS["tro"]
    rows = [["Guro Tangen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei,\n\nSøknad med tildelingsbrev.\n\n" + form_text(o, rows, case_line=False) + \
        f"\nHilsen\n{o.contact}\nTrollstua barnehage\n"
    g = Letter("grant", o, "24.06.2020", "2020/12470",
               [("Guro Tangen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("21", letter_pdf(g))
    b = "Apple-Mail=_F1E2D3C4-B5A6-4978-8695-A4B3C2D1E0F9"
    body = multipart(b, [
        leaf([("Content-Transfer-Encoding", "quoted-printable"),
              ("Content-Type", "text/plain;\n\tcharset=utf-8")], qp(text, "utf-8")),
        pdf_part_apple(pdf, "Tildelingsbrev.pdf"),
    ])
    top = apple_top(o, "Sak 20 / 30298 - søknad tilretteleggingstilskudd",
                    "Fri, 11 Sep 2020 14:14:14 +0200",
                    "F1E2D3C4-B5A6-4978-8695-A4B3C2D1E0F9@trollstua.no",
                    f'multipart/mixed;\n\tboundary="{b}"')
    exp = expected(app(o, [fl("Guro Tangen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("decided", R2, 55000,
                            [dl("Guro Tangen", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("22-case-number-only-in-form-pdf",
      "Gmail web; subject 'Søknad om tilretteleggingsmidler', body without a number; the case "
      "number stands only in the attached form PDF -> recognised; rejection letter -> 50 000")
def c22():
    o = OWNERS["nes"]
    rows = [["Stine Myhre", "BLU deltid", "OsloMet", "50 000", "avslag"]]
    form_pdf = keep_pdf("22a", pdf_plain_text(form_text(o, rows), "Søknad"))
    r = Letter("rejection", o, "19.06.2020", "2020/11901",
               [("Stine Myhre", "barnehagelærerutdanning deltid", "OsloMet", 50000, None)],
               applied_sentence=False)
    pdf = keep_pdf("22b", letter_pdf(r))
    text = ("Hei,\n\nVedlagt følger utfylt søknadsskjema og avslagsbrevet fra Statsforvalteren.\n\n"
            f"Vennlig hilsen\n{o.contact}\n{o.name}\n")
    b_mix, b_alt = "000000000000b7c6d505ae2f4b83", "000000000000b7c6d405ae2f4b81"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(form_pdf, "Soknadsskjema_Nesoya.pdf", "f_kf01a2b30"),
        pdf_part_gmail(pdf, "Avslag_Stine_Myhre.pdf", "f_kf01a2b31"),
    ])
    top = gmail_top(o, "Søknad om tilretteleggingsmidler", "Mon, 14 Sep 2020 10:02:03 +0200",
                    "CANm3Bv4Cx5Zl6Kj7Hg8Fd9Sa0Qw1Er2Ty3Ui4Op5As6Df7Gh8J",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Stine Myhre", "BLU_DELTID", 50000, "rejected", None)]),
                   [lt("rejection", [], "Avslag_Stine_Myhre.pdf")],
                   decision("decided", R2, 50000,
                            [dl("Stine Myhre", "approved", 50000, "state_rejected_cap")]),
                   [])
    return message(top, body), exp


@case("23-unrelated-citizen-mail",
      "Outlook (SMTP); a citizen writes to post@ about a building case (byggesak 20/11873) -> "
      "ignored, no_case_number")
def c23():
    text = ("Hei,\n\nJeg viser til byggesak 20/11873 for gnr. 41 bnr. 208 i Heggedal. Vi har "
            "fremdeles ikke fått svar på\nsøknaden om dispensasjon som ble sendt 3. juni. Kan "
            "dere gi beskjed om når vi kan forvente\net svar?\n\nEiendommen ligger i "
            "Heggedalsbakken 14, 1389 Heggedal.\n\nMed vennlig hilsen\nTor Egil Rasmussen\n"
            "Tlf. 928 77 310\n")
    b = "----=_NextPart_000_0031_01D67E55.7A1B2C30"
    html = outlook_html(text.rstrip("\n").split("\n"))
    body = multipart(b, [
        leaf([("Content-Type", 'text/plain;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "iso-8859-1")),
        leaf([("Content-Type", 'text/html;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ], preamble="This is a multipart message in MIME format.\n\n")
    date = "Tue, 15 Sep 2020 20:11:05 +0200"
    top = [("Return-Path", "<tor.egil.rasmussen@online.no>"), received(date, "smtp.online.no"),
           ("From", '"Tor Egil Rasmussen" <tor.egil.rasmussen@online.no>'),
           ("To", "<post@asker.kommune.no>"),
           ("Subject", ew("Purring - byggesak 20/11873, søknad om dispensasjon", "iso-8859-1")),
           ("Date", date), ("Message-ID", "<003101d67e55$7a1b2c30$6e518490$@online.no>"),
           ("MIME-Version", "1.0"), ("Content-Type", f'multipart/alternative;\n\tboundary="{b}"'),
           ("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdZ+VXoaY2Pq8r3kQ3uZ8X0fWb6pQg=="),
           ("Content-Language", "nb")]
    return message(top, body), ignored("no_case_number", False)


@case("24-auto-reply-fravaerende",
      "Exchange out-of-office reply (Auto-Submitted: auto-replied, X-Auto-Response-Suppress, "
      "subject 'Fraværende: Vedtak ... sak 20/30298') -> ignored, auto_reply")
def c24():
    o = OWNERS["sol"]
    text = ("Takk for din e-post. Jeg er på ferie til og med 28. september og leser ikke e-post.\n"
            "Saker om tilretteleggingstilskudd (sak 20/30298) kan sendes til styrer@solsikken-bhg.no.\n\n"
            "Med vennlig hilsen\nKari Nordmann\n")
    date = "Wed, 16 Sep 2020 06:12:40 +0000"
    top = [("Return-Path", f"<{o.email}>"), received(date, "EUR05-VI1-obe.outbound.protection.outlook.com"),
           ("From", f"Kari Nordmann <{o.email}>"), ("To", "<post@asker.kommune.no>"),
           ("Subject", ew("Fraværende: Vedtak om tilretteleggingstilskudd - sak 20/30298",
                          "iso-8859-1", "Q", 24)),
           ("Thread-Topic", ew("Vedtak om tilretteleggingstilskudd - sak 20/30298", "iso-8859-1")),
           ("Thread-Index", "AQHWi9i4k2q1uO0sX0mJ9ZtYpQ3n7Q=="),
           ("Date", date),
           ("Message-ID", "<HE1PR0701MB2297A1B2C3D4E5F60718293A4B5C6@HE1PR0701MB2297.eurprd07.prod.outlook.com>"),
           ("In-Reply-To", "<tilskudd.20-30298.0012@asker.kommune.no>"),
           ("References", "<tilskudd.20-30298.0012@asker.kommune.no>"),
           ("Accept-Language", "nb-NO, en-US"), ("Content-Language", "nb-NO"),
           ("X-MS-Has-Attach", ""), ("X-MS-TNEF-Correlator", ""),
           ("X-Auto-Response-Suppress", "All"), ("Auto-Submitted", "auto-replied"),
           ("Content-Type", 'text/plain; charset="iso-8859-1"'),
           ("Content-Transfer-Encoding", "quoted-printable"), ("MIME-Version", "1.0")]
    return message(top, qp(text, "iso-8859-1")), ignored("auto_reply", True)


@case("25-bounce-multipart-report",
      "Bounce: multipart/report from MAILER-DAEMON with a null Return-Path, quoting a forwarded "
      "application -> ignored, bounce")
def c25():
    o = OWNERS["bla"]
    rows = [["Marte Kristiansen", "ABLU", "OsloMet", "95 000", "40 000"]]
    orig_text = "Hei!\n\n" + form_text(o, rows)
    original = message([
        ("From", f'"Asker kommune" <post@asker.kommune.no>'),
        ("To", "<gunn.ellefsen@asker.kommune.no>"),
        ("Subject", ew("VS: Søknad om tilretteleggingstilskudd 20/30298 - Blåbærtoppen")),
        ("Date", "Thu, 17 Sep 2020 08:00:12 +0200"),
        ("Message-ID", "<20200917060012.5F3A2C1B@mx01.asker.kommune.no>"),
        ("MIME-Version", "1.0"), ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "quoted-printable"),
    ], qp(orig_text, "utf-8"), crlf=False).decode("ascii")
    b = "4BXB0r2nYqz9rxN.1600322413/mx01.asker.kommune.no"
    notice = ("This is the mail system at host mx01.asker.kommune.no.\n\n"
              "I'm sorry to have to inform you that your message could not\n"
              "be delivered to one or more recipients. It's attached below.\n\n"
              "For further assistance, please send mail to postmaster.\n\n"
              "                   The mail system\n\n"
              "<gunn.ellefsen@asker.kommune.no>: host\n"
              "    asker-kommune-no.mail.protection.outlook.com[104.47.18.110] said: 550 5.1.10\n"
              "    RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\n"
              "    (in reply to RCPT TO command)\n")
    status = ("Reporting-MTA: dns; mx01.asker.kommune.no\nX-Postfix-Queue-ID: 4BXB0r2nYqz9rxN\n"
              "X-Postfix-Sender: rfc822; post@asker.kommune.no\n"
              "Arrival-Date: Thu, 17 Sep 2020 08:00:12 +0200 (CEST)\n\n"
              "Final-Recipient: rfc822; gunn.ellefsen@asker.kommune.no\n"
              "Original-Recipient: rfc822;gunn.ellefsen@asker.kommune.no\nAction: failed\n"
              "Status: 5.1.10\nRemote-MTA: dns; asker-kommune-no.mail.protection.outlook.com\n"
              "Diagnostic-Code: smtp; 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not\n"
              "    found by SMTP address lookup\n")
    body = multipart(b, [
        leaf([("Content-Description", "Notification"),
              ("Content-Type", "text/plain; charset=us-ascii")], notice),
        leaf([("Content-Description", "Delivery report"),
              ("Content-Type", "message/delivery-status")], status),
        leaf([("Content-Description", "Undelivered Message"),
              ("Content-Type", "message/rfc822")], original),
    ], preamble="This is a MIME-encapsulated message.\n\n")
    top = [("Return-Path", "<>"),
           ("Received", "by mx01.asker.kommune.no (Postfix)\n\tid 4BXB0r2nYqz9rxN; "
                        "Thu, 17 Sep 2020 08:00:13 +0200 (CEST)"),
           ("Date", "Thu, 17 Sep 2020 08:00:13 +0200 (CEST)"),
           ("From", "MAILER-DAEMON@mx01.asker.kommune.no (Mail Delivery System)"),
           ("Subject", ew("Undelivered Mail Returned to Sender: VS: Søknad om "
                          "tilretteleggingstilskudd 20/30298")),
           ("To", "post@asker.kommune.no"), ("Auto-Submitted", "auto-replied"),
           ("MIME-Version", "1.0"),
           ("Content-Type", f'multipart/report; report-type=delivery-status;\n\tboundary="{b}"'),
           ("Content-Transfer-Encoding", "8bit"),
           ("Message-Id", "<20200917060013.4BXB0r2nYqz9rxN@mx01.asker.kommune.no>")]
    return message(top, body), ignored("bounce", True)


@case("26-own-decision-message",
      "Our own decision mail (From: Asker kommune <post@asker.kommune.no>, 'Vedtak ... 20/30298', "
      "no X-Tilskudd-Case header) delivered back into the inbox -> ignored, own_message")
def c26():
    text = ("Vedtak om tilretteleggingstilskudd - sak 20/30298\n\n"
            "Til: Solsikken Barnehage AS (org.nr. 921 456 786)\nDeres referanse: SOL-2020-7\n\n"
            "Asker kommune har behandlet søknaden deres mottatt 17.08.2020.\n\n"
            "Ingrid Solberg (ABLU): innvilget kr 55 000. Kostnad kr 95 000, tilskudd fra "
            "Statsforvalteren kr 40 000.\n\nSum innvilget: kr 55 000\n"
            "Tilskuddet utbetales etterskuddsvis i utbetalingsrunden med frist 1. september 2020.\n\n"
            "Dere kan klage på vedtaket innen 3 uker fra det er mottatt, jf. forvaltningsloven "
            "§§ 28 og 29.\n\nMed hilsen\nAsker kommune\nOppvekst - barnehage\n")
    top = [("Return-Path", "<post@asker.kommune.no>"),
           ("From", "Asker kommune <post@asker.kommune.no>"),
           ("To", "Kari Nordmann <kari.nordmann@solsikken-bhg.no>"),
           ("Subject", ew("Vedtak om tilretteleggingstilskudd - sak 20/30298 - Solsikken "
                          "Barnehage AS")),
           ("Date", "Fri, 18 Sep 2020 10:00:00 +0200"),
           ("Message-ID", "<tilskudd.20-30298.0012@asker.kommune.no>"),
           ("In-Reply-To", "<HE1PR0701MB2297C3B1E0F2A8D9B1C5E2F5D95C0@HE1PR0701MB2297.eurprd07.prod.outlook.com>"),
           ("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=utf-8"),
           ("Content-Transfer-Encoding", "quoted-printable")]
    return message(top, qp(text, "utf-8")), ignored("own_message", True)


@case("27-second-round-september",
      "Outlook 365, received 2020-09-15 (after 1 September) -> round 2020-12-01")
def c27():
    o = OWNERS["hva"]
    rows = [["Linn Christensen", "ABLU", "OsloMet", "95 000", "40 000"]]
    plain = "Hei,\n\nSøknad om tilretteleggingstilskudd vedlagt tildelingsbrev.\n\n" + \
        form_text(o, rows) + f"\nMed vennlig hilsen\n{o.contact}\n"
    html = outlook_html(plain.rstrip("\n").split("\n"))
    g = Letter("grant", o, "24.06.2020", "2020/12555",
               [("Linn Christensen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet",
                 95000, 40000)])
    pdf = keep_pdf("27", letter_pdf(g))
    bid = "VI1PR0302MB2710F0E1D2C3B4A5968778695A4B3VI1PR0302MB2710eurp_"
    alt = multipart(f"_000_{bid}", [
        leaf([("Content-Type", 'text/plain; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "iso-8859-1")),
        leaf([("Content-Type", 'text/html; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    date = "Tue, 15 Sep 2020 11:47:02 +0000"
    body = multipart(f"_004_{bid}", [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="_000_{bid}"')], alt),
        pdf_part_outlook(pdf, "Tildelingsbrev.pdf", date),
    ])
    top = outlook365_top(o, "Søknad tilretteleggingstilskudd 20/30298", date,
                         "VI1PR0302MB2710F0E1D2C3B4A5968778695A4B3@VI1PR0302MB2710.eurprd03.prod.outlook.com",
                         "AdaLUq1P0mZ2sN9UR8iQkx5Fz3Yw2g==",
                         f'multipart/mixed;\n\tboundary="_004_{bid}"', True)
    exp = expected(app(o, [fl("Linn Christensen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("decided", R2, 55000,
                            [dl("Linn Christensen", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("28-after-last-deadline-next-year",
      "Thunderbird, received 2020-12-10 (after the last 2020 deadline) -> round 2021-09-01; the "
      "employee is only on the 2021 roster")
def c28():
    o = OWNERS["fje"]
    rows = [["Karoline Dahle", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = ("Hei,\n\nBeklager at søknaden kommer etter fristen. Tildelingsbrevet er vedlagt.\n\n" +
            form_text(o, rows) + f"\nMvh\n{o.contact}\n")
    g = Letter("grant", o, "20.11.2020", "2020/19012",
               [("Karoline Dahle", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)], their_date="01.10.2020")
    pdf = keep_pdf("28", letter_pdf(g))
    b = "------------7E8F9A0B1C2D3E4F5A6B7C8D"
    body = multipart(b, [
        leaf([("Content-Type", "text/plain; charset=UTF-8; format=flowed"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        pdf_part_tb(pdf, "Tildelingsbrev_Karoline_Dahle.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "Søknad tilretteleggingstilskudd 20/30298",
                          "Thu, 10 Dec 2020 13:20:00 +0100",
                          "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e@fjellstua-bhg.no",
                          f'multipart/mixed;\n boundary="{b}"')
    exp = expected(app(o, [fl("Karoline Dahle", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev_Karoline_Dahle.pdf")],
                   decision("decided", "2021-09-01", 55000,
                            [dl("Karoline Dahle", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("29-invalid-org-number",
      "Gmail web; organisation number with a bad mod-11 check digit (921 456 787) -> "
      "invalid_org_number; the roster's number differs too -> roster_org_mismatch")
def c29():
    o = OWNERS["sol"]
    rows = [["Frida Solheim", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei,\n\nSøknad om tilretteleggingstilskudd.\n\n" + \
        form_text(o, rows, org_number=BAD_ORG) + f"\nHilsen\n{o.contact}\n"
    g = Letter("grant", o, "24.06.2020", "2020/12389",
               [("Frida Solheim", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("29", letter_pdf(g))
    b_mix, b_alt = "0000000000001f2e3d05afb1c6a2", "0000000000001f2e3c05afb1c6a0"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Tildelingsbrev Frida.pdf", "f_kfc0d1e20"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Mon, 21 Sep 2020 09:09:09 +0200",
                    "CAEa1Sb2Dc3Fd4Ge5Hf6Ig7Jh8Ki9Lj0Mk1Nl2Om3Pn4Qo5Rp6S",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Frida Solheim", "ABLU", 95000, "granted", 40000)],
                       org_number=BAD_ORG),
                   [lt("grant", [40000], "Tildelingsbrev Frida.pdf")],
                   decision("flagged", R2, 0,
                            [dl("Frida Solheim", "flagged", 0, "roster_org_mismatch")]),
                   ["invalid_org_number", "roster_org_mismatch"])
    return message(top, body), exp


@case("30-amount-formats-semicolons",
      "Outlook 2016; semicolon-separated columns, amounts 'kr 95.000,-', '95 000 kr', 'NOK 95000', "
      "'kr 40.000,-', 'NOK 35000'; a two-person grant letter and a rejection letter")
def c30():
    o = OWNERS["lin"]
    rows = [["Eirik Hauge", "ABLU", "OsloMet", "kr 95.000,-", "kr 40.000,-"],
            ["Ida Sæther", "BLU deltid", "USN", "95 000 kr", "avslått"],
            ["Magnus Lunde", "Arbeidsplassbasert barnehagelærerutdanning", "Nord universitet",
             "NOK 95000", "NOK 35000"]]
    text = ("Hei,\n\nSøknad om tilretteleggingstilskudd for tre ansatte. Brevene fra "
            "Statsforvalteren er vedlagt.\n\n" + form_text(o, rows, sep=";") +
            f"\nMed vennlig hilsen\n{o.contact}\n")
    g = Letter("grant", o, "26.06.2020", "2020/13015",
               [("Eirik Hauge", "ABLU", "OsloMet", 95000, 40000),
                ("Magnus Lunde", "ABLU", "Nord universitet", 95000, 35000)])
    r = Letter("rejection", o, "26.06.2020", "2020/13016",
               [("Ida Sæther", "barnehagelærerutdanning deltid", "USN", 95000, None)])
    pg, pr = keep_pdf("30a", letter_pdf(g)), keep_pdf("30b", letter_pdf(r))
    b1 = "----=_NextPart_000_0042_01D6905B.2C3D4E50"
    b2 = "----=_NextPart_001_0043_01D6905B.2C3D4E50"
    html = outlook_html(text.rstrip("\n").split("\n"))
    alt = multipart(b2, [
        leaf([("Content-Type", 'text/plain;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "iso-8859-1")),
        leaf([("Content-Type", 'text/html;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    body = multipart(b1, [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="{b2}"')], alt),
        leaf([("Content-Type", 'application/pdf;\n\tname="Tildeling 2020-13015.pdf"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-Disposition", 'attachment;\n\tfilename="Tildeling 2020-13015.pdf"')],
             b64(pg)),
        leaf([("Content-Type", 'application/pdf;\n\tname="Avslag 2020-13016.pdf"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-Disposition", 'attachment;\n\tfilename="Avslag 2020-13016.pdf"')],
             b64(pr)),
    ], preamble="This is a multipart message in MIME format.\n\n")
    date = "Wed, 23 Sep 2020 08:15:30 +0200"
    top = [("Return-Path", f"<{o.email}>"), received(date, "smtp.linneaskogen.no"),
           ("From", f'"Silje Nordby" <{o.email}>'), ("To", "<post@asker.kommune.no>"),
           ("Subject", ew("Søknad tilretteleggingstilskudd 20/30298 - tre ansatte", "iso-8859-1")),
           ("Date", date), ("Message-ID", "<004201d6905b$2c3d4e50$84b7eaf0$@linneaskogen.no>"),
           ("MIME-Version", "1.0"), ("Content-Type", f'multipart/mixed;\n\tboundary="{b1}"'),
           ("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdaQWyw9TlB3aY1kS4K3p0xQ2Gv5mw=="),
           ("Content-Language", "nb")]
    exp = expected(app(o, [fl("Eirik Hauge", "ABLU", 95000, "granted", 40000),
                           fl("Ida Sæther", "BLU_DELTID", 95000, "rejected", None),
                           fl("Magnus Lunde", "ABLU", 95000, "granted", 35000)]),
                   [lt("grant", [40000, 35000], "Tildeling 2020-13015.pdf"),
                    lt("rejection", [], "Avslag 2020-13016.pdf")],
                   decision("decided", R2, 190000,
                            [dl("Eirik Hauge", "approved", 55000, "state_granted_remainder"),
                             dl("Ida Sæther", "approved", 75000, "state_rejected_cap"),
                             dl("Magnus Lunde", "approved", 60000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("31-tabs-lowercase-labels",
      "Thunderbird; labels in lower case without colons (tab after the label), 'Org.nr.', "
      "'navn på ansatt' header, tab-separated columns -> approved 55 000")
def c31():
    o = OWNERS["fje"]
    labels = {"case": "saksnummer", "owner": "barnehageeier", "org": "Org.nr.", "kg": "barnehage",
              "contact": "kontaktperson", "email": "e-post", "account": "kontonummer",
              "ref": "deres referanse"}
    header = ["navn på ansatt", "utdanning", "studiested", "kostnad",
              "tilskudd fra statsforvalteren"]
    rows = [["Mette Kristoffersen", "ABLU", "OsloMet", "95000", "40000"]]
    form = form_text(o, rows, sep="\t", colon="\t", header=header, labels=labels,
                     title="søknad tilretteleggingstilskudd ved videre- og etterutdanning for "
                           "barnehageansatte")
    text = "Hei,\n\nkopierte skjemaet fra regnearket vårt:\n\n" + form + "\nmvh Anders\n"
    g = Letter("grant", o, "24.06.2020", "2020/12367",
               [("Mette Kristoffersen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet",
                 95000, 40000)])
    pdf = keep_pdf("31", letter_pdf(g))
    b = "------------1A2B3C4D5E6F7A8B9C0D1E2F"
    body = multipart(b, [
        leaf([("Content-Type", "text/plain; charset=UTF-8"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        pdf_part_tb(pdf, "tildelingsbrev.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "søknad 20/30298", "Thu, 24 Sep 2020 23:05:00 +0200",
                          "6e7f8091-a2b3-4c4d-9e5f-60718293a4b5@fjellstua-bhg.no",
                          f'multipart/mixed;\n boundary="{b}"')
    exp = expected(app(o, [fl("Mette Kristoffersen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "tildelingsbrev.pdf")],
                   decision("decided", R2, 55000,
                            [dl("Mette Kristoffersen", "approved", 55000,
                                "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("32-state-covers-cost",
      "Gmail web; cost 40 000 and the state granted 40 000 -> rejected state_covers_cost, total 0")
def c32():
    o = OWNERS["skj"]
    rows = [["Sofie Brekke", "ABLU", "OsloMet", "40 000", "40 000"]]
    text = "Hei\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nHilsen\n{o.contact}\n"
    g = Letter("grant", o, "24.06.2020", "2020/12402",
               [("Sofie Brekke", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 40000,
                 40000)])
    pdf = keep_pdf("32", letter_pdf(g))
    b_mix, b_alt = "000000000000d1c2b305afd3e4f7", "000000000000d1c2b205afd3e4f5"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Tildelingsbrev.pdf", "f_kfh2j3k40"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Fri, 25 Sep 2020 10:30:00 +0200",
                    "CAGb7Nh8Mj9Lk0Pl1Oq2Ir3Us4Yt5Tw6Rv7Ex8Wz9Qa0Sb1Dc2F",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Sofie Brekke", "ABLU", 40000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("decided", R2, 0,
                            [dl("Sofie Brekke", "rejected", 0, "state_covers_cost")]),
                   [])
    return message(top, body), exp


@case("33-two-case-numbers",
      "Outlook 365; subject 'Sak 20/30298 og sak 21/4455' -> multiple_case_numbers (blocking), "
      "the line itself approved")
def c33():
    o = OWNERS["hol"]
    rows = [["Anne Grete Vik", "ABLU", "OsloMet", "95 000", "40 000"]]
    plain = ("Hei,\n\nSender søknad om tilretteleggingstilskudd, og svarer samtidig på "
             "spørsmålet om oppholdsbetaling i den andre saken.\n\n" + form_text(o, rows) +
             f"\nMed vennlig hilsen\n{o.contact}\n")
    html = outlook_html(plain.rstrip("\n").split("\n"))
    g = Letter("grant", o, "24.06.2020", "2020/12404",
               [("Anne Grete Vik", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("33", letter_pdf(g))
    bid = "AM0PR07MB4130A9B8C7D6E5F4A3B2C1D0E9F8A7BAM0PR07MB4130eurp_"
    alt = multipart(f"_000_{bid}", [
        leaf([("Content-Type", 'text/plain; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "iso-8859-1")),
        leaf([("Content-Type", 'text/html; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    date = "Mon, 28 Sep 2020 12:12:12 +0000"
    body = multipart(f"_004_{bid}", [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="_000_{bid}"')], alt),
        pdf_part_outlook(pdf, "Tildelingsbrev.pdf", date),
    ])
    top = outlook365_top(o, "Sak 20/30298 og sak 21/4455", date,
                         "AM0PR07MB4130A9B8C7D6E5F4A3B2C1D0E9F8A7B@AM0PR07MB4130.eurprd07.prod.outlook.com",
                         "AdaVnAk2b3c4d5e6f7g8h9i0j1k2lQ==",
                         f'multipart/mixed;\n\tboundary="_004_{bid}"', True)
    exp = expected(app(o, [fl("Anne Grete Vik", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("flagged", R2, 55000,
                            [dl("Anne Grete Vik", "approved", 55000, "state_granted_remainder")]),
                   ["multiple_case_numbers"])
    return message(top, body), exp


@case("34-malformed-mime-truncated",
      "Outlook 2016 with a broken structure: the inline signature logo's base64 is cut off and "
      "the final boundary is missing; the form (first text part) and the letter still read -> "
      "malformed_mime (informational), approved")
def c34():
    o = OWNERS["bon"]
    rows = [["Kamilla Strøm", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei,\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nMed vennlig hilsen\n{o.contact}\n"
    g = Letter("grant", o, "24.06.2020", "2020/12405",
               [("Kamilla Strøm", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("34", letter_pdf(g))
    logo = b64(png_bytes(120, 40, 3))
    cut = logo[: (len(logo) * 2) // 3]
    cut = cut[: cut.rfind("\n") + 1] + cut[cut.rfind("\n") + 1:][:37]  # mid-line, mid-quantum
    b1 = "----=_NextPart_000_0051_01D69270.4D5E6F70"
    body = multipart(b1, [
        leaf([("Content-Type", 'text/plain;\n\tcharset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "iso-8859-1")),
        leaf([("Content-Type", 'application/pdf;\n\tname="Tildelingsbrev.pdf"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-Disposition", 'attachment;\n\tfilename="Tildelingsbrev.pdf"')], b64(pdf)),
        hdrs([("Content-Type", 'image/png;\n\tname="image001.png"'),
              ("Content-Transfer-Encoding", "base64"),
              ("Content-ID", "<image001.png@01D69270.4D5E6F70>"),
              ("Content-Disposition", 'inline;\n\tfilename="image001.png"')]) + "\n" + cut,
    ], preamble="This is a multipart message in MIME format.\n\n", close=False)
    date = "Tue, 29 Sep 2020 14:41:00 +0200"
    top = [("Return-Path", f"<{o.email}>"), received(date, "smtp.bondistua.no"),
           ("From", f'"Per Arne Holm" <{o.email}>'), ("To", "<post@asker.kommune.no>"),
           ("Subject", ew("Søknad tilretteleggingstilskudd 20/30298", "iso-8859-1")),
           ("Date", date), ("Message-ID", "<005101d69270$4d5e6f70$e81b4e50$@bondistua.no>"),
           ("MIME-Version", "1.0"), ("Content-Type", f'multipart/mixed;\n\tboundary="{b1}"'),
           ("X-Mailer", "Microsoft Outlook 16.0"), ("Thread-Index", "AdaScE1ebwA1c2Vr4kS0nQm3yZx8Hw=="),
           ("Content-Language", "nb")]
    exp = expected(app(o, [fl("Kamilla Strøm", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("decided", R2, 55000,
                            [dl("Kamilla Strøm", "approved", 55000, "state_granted_remainder")]),
                   ["malformed_mime"])
    return message(top, body), exp


@case("35-invalid-account-number",
      "Apple Mail; account number with a bad mod-11 check digit -> invalid_account_number "
      "(blocking); the line itself approved")
def c35():
    o = OWNERS["kan"]
    rows = [["Petter Nygård", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei,\n\nSøknad om tilretteleggingstilskudd for Petter.\n\n" + \
        form_text(o, rows, acct=BAD_ACCOUNT) + "\nHilsen Lene\n"
    g = Letter("grant", o, "24.06.2020", "2020/12406",
               [("Petter Nygård", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("35", letter_pdf(g))
    b = "Apple-Mail=_0D9C8B7A-6F5E-4D3C-2B1A-0F9E8D7C6B5A"
    body = multipart(b, [
        leaf([("Content-Transfer-Encoding", "quoted-printable"),
              ("Content-Type", "text/plain;\n\tcharset=utf-8")], qp(text, "utf-8")),
        pdf_part_apple(pdf, "Tildelingsbrev Petter.pdf"),
    ])
    top = apple_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Wed, 30 Sep 2020 18:30:00 +0200",
                    "0D9C8B7A-6F5E-4D3C-2B1A-0F9E8D7C6B5A@kanutten.no",
                    f'multipart/mixed;\n\tboundary="{b}"')
    exp = expected(app(o, [fl("Petter Nygård", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev Petter.pdf")],
                   decision("flagged", R2, 55000,
                            [dl("Petter Nygård", "approved", 55000, "state_granted_remainder")]),
                   ["invalid_account_number"])
    return message(top, body), exp


@case("36-iphone-photo-of-letter",
      "iPhone Mail; the letter is a photo (image/png attachment, no Content-ID) -> "
      "unreadable_letter, line flagged")
def c36():
    o = OWNERS["eve"]
    rows = [["Ronja Holm", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei! Søknad under, bilde av tildelingsbrevet vedlagt.\n\n" + form_text(o, rows) + \
        "\nSendt fra min iPhone\n"
    img = png_bytes(160, 120, 11)
    b = "Apple-Mail-5C4B3A29-1807-4F6E-9D8C-7B6A59483726"
    body = multipart(b, [
        leaf([("Content-Type", "text/plain;\n\tcharset=utf-8"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'image/png;\n\tname="IMG_0412.PNG";\n\tx-apple-part-url='
                               '"5C4B3A29-1807-4F6E-9D8C-7B6A59483726"'),
              ("Content-Disposition", 'attachment;\n\tfilename="IMG_0412.PNG"'),
              ("Content-Transfer-Encoding", "base64")], b64(img)),
        leaf([("Content-Type", "text/plain;\n\tcharset=us-ascii"),
              ("Content-Transfer-Encoding", "7bit")], "\n"),
    ])
    top = apple_top(o, "Søknad 20/30298", "Thu, 01 Oct 2020 07:07:07 +0200",
                    "5C4B3A29-1807-4F6E-9D8C-7B6A59483726@eventyrskogen.no",
                    f'multipart/mixed;\n\tboundary={b}', ios=True)
    exp = expected(app(o, [fl("Ronja Holm", "ABLU", 95000, "granted", 40000)]),
                   [lt("unknown", [], "IMG_0412.PNG")],
                   decision("flagged", R2, 0,
                            [dl("Ronja Holm", "flagged", 0, "unreadable_letter")]),
                   ["unreadable_letter"])
    return message(top, body), exp


@case("37-roster-programme-mismatch",
      "Gmail web; the form says ABLU but the roster has the employee on BLU deltid -> "
      "roster_programme_mismatch, flagged")
def c37():
    o = OWNERS["tro"]
    rows = [["Halvor Lund", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nHilsen\n{o.contact}\n"
    g = Letter("grant", o, "24.06.2020", "2020/12471",
               [("Halvor Lund", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("37", letter_pdf(g))
    b_mix, b_alt = "0000000000005e6f7a05b0a1b2c3", "0000000000005e6f7905b0a1b2c1"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Tildelingsbrev.pdf", "f_kfs1t2u30"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Mon, 05 Oct 2020 09:00:00 +0200",
                    "CAKc8Vd9Bf0Ng1Hh2Jj3Kk4Ll5Mm6Nn7Oo8Pp9Qq0Rr1Ss2Tt3U",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Halvor Lund", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("flagged", R2, 0,
                            [dl("Halvor Lund", "flagged", 0, "roster_programme_mismatch")]),
                   ["roster_programme_mismatch"])
    return message(top, body), exp


@case("38-letter-names-nobody-single-line",
      "Thunderbird; the grant letter names no employee ('tildeles kr 40 000 for én ansatt'); "
      "the form has one line, so the letter applies to it -> approved 55 000")
def c38():
    o = OWNERS["nes"]
    rows = [["Tuva Ellingsen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei,\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nMvh\n{o.contact}\n"
    g = Letter("grant", o, "24.06.2020", "2020/12407",
               [("én ansatt", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)], applied_sentence=False)
    pdf = keep_pdf("38", letter_pdf(g))
    b = "------------9F8E7D6C5B4A39281706F5E4"
    body = multipart(b, [
        leaf([("Content-Type", "text/plain; charset=UTF-8; format=flowed"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        pdf_part_tb(pdf, "Tildelingsbrev.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "Søknad tilretteleggingstilskudd 20/30298",
                          "Tue, 06 Oct 2020 10:00:00 +0200",
                          "9f8e7d6c-5b4a-4928-9706-f5e4d3c2b1a0@nesoya-natur.no",
                          f'multipart/mixed;\n boundary="{b}"')
    exp = expected(app(o, [fl("Tuva Ellingsen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("decided", R2, 55000,
                            [dl("Tuva Ellingsen", "approved", 55000, "state_granted_remainder")]),
                   [])
    return message(top, body), exp


@case("39-duplicate-line",
      "Gmail web; the same employee twice in the form (copy-paste) -> duplicate_line, both lines "
      "flagged")
def c39():
    o = OWNERS["hva"]
    rows = [["Sander Aasen", "ABLU", "OsloMet", "95 000", "40 000"],
            ["Sander Aasen", "ABLU", "OsloMet", "95 000", "40 000"]]
    text = "Hei\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nHilsen\n{o.contact}\n"
    g = Letter("grant", o, "24.06.2020", "2020/12556",
               [("Sander Aasen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("39", letter_pdf(g))
    b_mix, b_alt = "000000000000a9b8c705b0c3d4e5", "000000000000a9b8c605b0c3d4e3"
    alt = multipart(b_alt, [
        leaf([("Content-Type", 'text/plain; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        leaf([("Content-Type", 'text/html; charset="UTF-8"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(simple_html(text), "utf-8")),
    ])
    body = multipart(b_mix, [
        leaf([("Content-Type", f'multipart/alternative; boundary="{b_alt}"')], alt),
        pdf_part_gmail(pdf, "Tildelingsbrev.pdf", "f_kft4v5w60"),
    ])
    top = gmail_top(o, "Søknad tilretteleggingstilskudd 20/30298", "Wed, 07 Oct 2020 13:30:00 +0200",
                    "CAJd9We0Rf1Tg2Yh3Uj4Ik5Ol6Pm7An8Sb9Dc0Fv1Gb2Hn3Jm4K",
                    f'multipart/mixed; boundary="{b_mix}"')
    exp = expected(app(o, [fl("Sander Aasen", "ABLU", 95000, "granted", 40000),
                           fl("Sander Aasen", "ABLU", 95000, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("flagged", R2, 0,
                            [dl("Sander Aasen", "flagged", 0, "duplicate_line"),
                             dl("Sander Aasen", "flagged", 0, "duplicate_line")]),
                   ["duplicate_line"])
    return message(top, body), exp


@case("40-missing-cost",
      "Outlook 365; the cost cell is empty -> missing_cost, line flagged")
def c40():
    o = OWNERS["bon"]
    rows = [["Marit Gundersen", "ABLU", "OsloMet", "", "40 000"]]
    plain = "Hei,\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nMed vennlig hilsen\n{o.contact}\n"
    html = outlook_html(plain.rstrip("\n").split("\n"))
    g = Letter("grant", o, "24.06.2020", "2020/12408",
               [("Marit Gundersen", "arbeidsplassbasert barnehagelærerutdanning", "OsloMet", 95000,
                 40000)])
    pdf = keep_pdf("40", letter_pdf(g))
    bid = "HE1PR0802MB2331B1C2D3E4F5A6B7C8D9E0F1A2BHE1PR0802MB2331eurp_"
    alt = multipart(f"_000_{bid}", [
        leaf([("Content-Type", 'text/plain; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(plain, "iso-8859-1")),
        leaf([("Content-Type", 'text/html; charset="iso-8859-1"'),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(html, "iso-8859-1")),
    ])
    date = "Thu, 08 Oct 2020 08:08:08 +0000"
    body = multipart(f"_004_{bid}", [
        leaf([("Content-Type", f'multipart/alternative;\n\tboundary="_000_{bid}"')], alt),
        pdf_part_outlook(pdf, "Tildelingsbrev.pdf", date),
    ])
    top = outlook365_top(o, "Søknad tilretteleggingstilskudd 20/30298", date,
                         "HE1PR0802MB2331B1C2D3E4F5A6B7C8D9E0F1A2B@HE1PR0802MB2331.eurprd08.prod.outlook.com",
                         "AdadUx8k0p1q2r3s4t5u6v7w8x9y0A==",
                         f'multipart/mixed;\n\tboundary="_004_{bid}"', True)
    top[2] = ("From", f"Per Arne Holm <{o.email}>")
    exp = expected(app(o, [fl("Marit Gundersen", "ABLU", None, "granted", 40000)]),
                   [lt("grant", [40000], "Tildelingsbrev.pdf")],
                   decision("flagged", R2, 0,
                            [dl("Marit Gundersen", "flagged", 0, "missing_cost")]),
                   ["missing_cost"])
    return message(top, body), exp


@case("41-no-rules-for-year",
      "Thunderbird, received 2021-12-15: after the last 2021 deadline, and no [year.2022] is "
      "configured -> no_rules_for_year, flagged, no round")
def c41():
    o = OWNERS["lin"]
    rows = [["Oda Fossum", "BLU deltid", "USN", "60 000", "avslag"]]
    text = "Hei,\n\nSøknad om tilretteleggingstilskudd.\n\n" + form_text(o, rows) + \
        f"\nMvh\n{o.contact}\n"
    r = Letter("rejection", o, "20.11.2021", "2021/20877",
               [("Oda Fossum", "barnehagelærerutdanning deltid", "USN", 60000, None)],
               their_date="01.10.2021")
    pdf = keep_pdf("41", letter_pdf(r))
    b = "------------2B3C4D5E6F708192A3B4C5D6"
    body = multipart(b, [
        leaf([("Content-Type", "text/plain; charset=UTF-8; format=flowed"),
              ("Content-Transfer-Encoding", "quoted-printable")], qp(text, "utf-8")),
        pdf_part_tb(pdf, "Avslag_Oda_Fossum.pdf"),
    ], preamble="This is a multi-part message in MIME format.\n")
    top = thunderbird_top(o, "Søknad tilretteleggingstilskudd 20/30298",
                          "Wed, 15 Dec 2021 09:30:00 +0100",
                          "2b3c4d5e-6f70-4192-a3b4-c5d6e7f80912@linneaskogen.no",
                          f'multipart/mixed;\n boundary="{b}"')
    top = [(k, v.replace("rv:68.0", "rv:91.0").replace("Thunderbird/68.11.0", "Thunderbird/91.4.0"))
           for k, v in top]
    exp = expected(app(o, [fl("Oda Fossum", "BLU_DELTID", 60000, "rejected", None)]),
                   [lt("rejection", [], "Avslag_Oda_Fossum.pdf")],
                   {"status": "flagged", "round": None, "total": 0},
                   ["no_rules_for_year"])
    return message(top, body), exp


# ---------------------------------------------------------------------------------------------
# Config, rosters, README


CONFIG = """# Config for the test corpus (tests/corpus/*.eml). Written by generate.py.
# Only what `tilskudd inspect` needs: the case, our own sending address, and the yearly rules.

[smtp]
from = "Asker kommune <post@asker.kommune.no>"

[case]
number = "20/30298"

# The corpus comes without Authentication-Results from a receiving host (explicit opt-out of
# the fail-closed default), and is about the rules, not the audit sample (tests of their own).
[sender]
require_authentication = false

[controls]
audit_sample_percent = 0

[year.2020]
deadlines = ["2020-09-01", "2020-12-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU", "BLU_DELTID"]
roster = "roster-2020.csv"

[year.2021]
deadlines = ["2021-09-01", "2021-12-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU", "BLU_DELTID"]
roster = "roster-2021.csv"
"""


def roster_csv(rows) -> str:
    out = "employee,programme,org_number\n"
    for name, prog, key in rows:
        out += f"{name},{prog},{OWNERS[key].org}\n"
    return out


JUDGEMENT_CALLS = [
    "03: a letter that grants some employees and rejects others has kind `grant` (it grants "
    "money); its `amounts` are only the granted cells in table order [40000, 40000, 30000], "
    "not the 'Søkt beløp' column.",
    "05: the OTHER line's state column 'ikke mottatt' and its missing letter do not hold the case "
    "back: rule 1 rejects it first (programme_not_eligible), so the case is `decided`.",
    "10: a receipt letter ('Bekreftelse på mottatt søknad') is a letter of kind `unknown` with "
    "`amounts` [] (it names the 60 000 applied for, which is not a grant).",
    "11, 36: a letter without text (scanned PDF, photo) is listed in `letters` with kind "
    "`unknown` and `amounts` []; the line it might settle is `flagged` with reason_code "
    "`unreadable_letter`.",
    "Flagged lines carry amount 0 and the flag's code as reason_code; `total` is the sum of the "
    "approved lines even when the case is flagged (06, 33, 35).",
    "29: a mistyped organisation number also makes the roster (which has the real number) "
    "disagree, so the case carries both `invalid_org_number` and `roster_org_mismatch`, and the "
    "line is flagged with `roster_org_mismatch`.",
    "33: `multiple_case_numbers` is case-level: the line is still decided (approved 55 000) but "
    "the case is `flagged`.",
    "34: the broken part is an inline signature logo (image/png with a Content-ID), which is not "
    "a letter, so no `unreadable_letter`; only `malformed_mime`, and the case is `decided`.",
    "39: when one employee appears twice, both lines are flagged `duplicate_line` (a person must "
    "decide which row is meant).",
    "40: a missing cost gives `cost` null in `application.lines`.",
    "41: with no rules for the received date the decision has `round` null and `total` 0; its "
    "lines are not checked.",
    "18, 19: letters read from a forwarded message (message/rfc822 attachment, or an inline "
    "'Videresendt melding' block) are checked for kind and amounts only (their `filename` is the "
    "forwarded subject or \"\").",
    "24, 25, 26: `case_number_found` of an ignored machine message reflects the subject/body "
    "(all three carry 20/30298 in the subject).",
    "Received dates come from the Date header in the sender's zone (no case is near midnight); "
    "13 arrives on the deadline day itself (1 September, 16:45) and counts for that round.",
]


def readme() -> str:
    lines = [
        "# The test corpus",
        "",
        "Realistic application e-mails for case 20/30298, as kindergarten owners send them from "
        "Outlook (Windows, Mac, on the web), Gmail (web, Android), Apple Mail (macOS, iOS) and "
        "Thunderbird, each with the expected `tilskudd inspect` result. Everything here is written "
        "by `generate.py` (Python 3.11, standard library only, deterministic):",
        "",
        "```sh",
        "python3 tests/corpus/generate.py           # rewrite every file in this folder",
        "python3 tests/corpus/generate.py --check   # and check each PDF with pdftotext -layout",
        "```",
        "",
        "- `config.toml`: case 20/30298, `[smtp] from` (own-message detection), `[sender] "
        "require_authentication = false` and `[controls] audit_sample_percent = 0` (the corpus is "
        "about the rules), `[year.2020]` and "
        "`[year.2021]` (deadlines 1 Sept and 1 Dec, cap 75 000 when the state rejected, ABLU and "
        "BLU_DELTID), each with its roster.",
        "- `roster-2020.csv`, `roster-2021.csv`: the ongoing students. Left out on purpose: Thomas "
        "Berntsen (06), Hanne Vik (05, OTHER programme), Karoline Dahle (28, only on the 2021 "
        "roster); Halvor Lund (37) is on it with another programme.",
        "- `NN-name.eml` and `NN-name.json`: one message and its expected result.",
        "",
        "The expected results were worked out by hand from docs/CONTRACT.md §1, §4 and docs/DECISIONS.md, "
        "never by running the program. The runner (tests/unit/corpus_test.cpp) compares them as a "
        "subset: keys absent from the .json are not checked, arrays must have the same length, and "
        "`flags` is the set of flag codes. `_received` (none used so far) would override the Date "
        "header. Organisation and account numbers are valid mod-11 numbers except the deliberate "
        f"{BAD_ORG} (29) and {BAD_ACCOUNT} (35).",
        "",
        "## Cases",
        "",
    ]
    for name, desc, _eml, _exp in CASES:
        lines.append(f"- `{name}`: {desc}.")
    lines += ["", "## Judgement calls", "",
              "Where DECISIONS.md does not settle an expectation, the corpus expects what an "
              "administrator would:", ""]
    lines += [f"- {j}" for j in JUDGEMENT_CALLS]
    return "\n".join(lines) + "\n"


def write(path: Path, data: bytes | str) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def check_pdfs() -> int:
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for key, data in sorted(PDFS.items()):
            p = Path(d) / f"{key}.pdf"
            p.write_bytes(data)
            r = subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True)
            text = r.stdout.decode("utf-8", "replace")
            if key == "11":
                ok = r.returncode == 0 and not text.strip()
            else:
                ok = r.returncode == 0 and len(text.strip()) > 200 and not r.stderr
            print(f"{'ok ' if ok else 'BAD'} {key}: {len(text.strip())} chars "
                  f"{r.stderr.decode().strip()[:80]}")
            bad += not ok
    return bad


def main() -> int:
    names = set()
    for name, _desc, eml, exp in CASES:
        assert name not in names
        names.add(name)
        write(OUT / f"{name}.eml", eml)
        write(OUT / f"{name}.json", json.dumps(exp, ensure_ascii=False, indent=2) + "\n")
    write(OUT / "config.toml", CONFIG)
    write(OUT / "roster-2020.csv", roster_csv(ROSTER_2020))
    write(OUT / "roster-2021.csv", roster_csv(ROSTER_2021))
    write(OUT / "README.md", readme())
    print(f"wrote {len(CASES)} cases to {OUT}")
    if "--check" in sys.argv:
        return 1 if check_pdfs() else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
