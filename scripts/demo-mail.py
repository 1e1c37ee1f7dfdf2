#!/usr/bin/env python3
"""Helpers for scripts/demo: the applicants' side of the mail loop on loopback.

  demo-mail.py config DIR SOURCE_DIR     writes DIR/tilskudd.toml for the demo servers
  demo-mail.py send PORT TO EML...       sends each sample application over SMTP, as its sender
  demo-mail.py wait MAILDIR COUNT        waits until a Maildir holds COUNT messages
  demo-mail.py show MAILROOT SKIP        prints every letter the daemon sent (all mailboxes but SKIP)
  demo-mail.py reply PORT MAILROOT TO    an applicant answers a documentation request with the letter
"""
import datetime
import email
import email.policy
import email.utils
import os
import smtplib
import sys
import time
from email.message import EmailMessage

POST = "post@asker.kommune.no"


def cmd_config(out_dir, source_dir):
    env = {}
    for line in open(os.path.join(out_dir, "mail-env")):
        if line.startswith("export "):
            k, v = line[7:].strip().split("=", 1)
            env[k] = v.strip("'")
    year = datetime.date.today().year
    years = ""
    for y in (year - 1, year, year + 1):
        years += f"""
[year.{y}]
deadlines = ["{y}-09-01", "{y}-12-01"]
cap_per_student_when_state_rejected = 75000
programmes = ["ABLU", "BLU_DELTID"]
roster = "{source_dir}/tests/corpus/roster-2020.csv"
"""
    with open(os.path.join(out_dir, "tilskudd.toml"), "w") as f:
        f.write(f"""# The demo's config: Dovecot and OpenSMTPD on loopback (tests/integration/mailservers.sh).
[mailbox]
url = "imaps://127.0.0.1:{env['TILSKUDD_IMAPS_PORT']}/INBOX"
username = "{POST}"
password_file = "imap-password"
ca_file = "{env['TILSKUDD_MAIL_CA']}"
poll_interval_seconds = 5

[smtp]
url = "smtp://127.0.0.1:{env['TILSKUDD_SMTP_PORT']}"
from = "Asker kommune <{POST}>"
allow_insecure = true                      # the demo's SMTP server is plain, on loopback only

[store]
path = "tilskudd.db"

[sender]
# The demo's mail comes over loopback without Authentication-Results from a receiving host: the
# explicit opt-out of the fail-closed default (the daemon warns about it at every start). Never
# set this for a real mailbox.
require_authentication = false

[controls]
# The demo keeps the default audit sample (5 %): a sampled case waits in `cases flagged`.
audit_sample_percent = 5
{years}""")
    with open(os.path.join(out_dir, "imap-password"), "w") as f:
        f.write("secret-post\n")


def envelope_sender(raw):
    msg = email.message_from_bytes(raw)
    rp = msg.get("Return-Path")
    if rp is not None and rp.strip() == "<>":
        return ""  # a bounce travels with the null sender
    addrs = email.utils.getaddresses([msg.get("From", "")])
    return addrs[0][1] if addrs and addrs[0][1] else "someone@example.invalid"


def cmd_send(port, to, files):
    with smtplib.SMTP("127.0.0.1", int(port)) as s:
        for path in files:
            raw = open(path, "rb").read()
            s.sendmail(envelope_sender(raw), [to], raw)
    print(f"  {len(files)} messages sent to {to}")


def count(maildir):
    n = 0
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if os.path.isdir(d):
            n += len(os.listdir(d))
    return n


def cmd_wait(maildir, n):
    for _ in range(600):
        if count(maildir) >= int(n):
            return
        time.sleep(0.1)
    sys.exit(f"demo: {maildir} did not receive {n} messages")


def letters(mailroot, skip):
    out = []
    for domain in sorted(os.listdir(mailroot)):
        for user in sorted(os.listdir(os.path.join(mailroot, domain))):
            address = f"{user}@{domain}"
            if address == skip:
                continue
            md = os.path.join(mailroot, domain, user, "Maildir")
            for sub in ("new", "cur"):
                d = os.path.join(md, sub)
                if not os.path.isdir(d):
                    continue
                for name in sorted(os.listdir(d)):
                    with open(os.path.join(d, name), "rb") as f:
                        msg = email.message_from_binary_file(f, policy=email.policy.default)
                    out.append((address, msg))
    return out


def cmd_show(mailroot, skip):
    found = letters(mailroot, skip)
    if not found:
        print("  (no letters)")
    for address, msg in found:
        body = msg.get_body(("plain",)).get_content()
        print(f"\n  To {address}  [{msg['X-Tilskudd-Case']}]")
        print(f"  Subject: {msg['Subject']}")
        keep = False
        for line in body.splitlines():
            s = line.strip()
            if s.startswith("- ") or s.startswith("Samlet tilskudd") or s.startswith("Utbetalingsrunde"):
                print(f"    {s}")
            keep = keep or s.startswith("Klagerett")
        if keep:
            print("    (with the right to appeal within 3 weeks)")


def cmd_reply(port, mailroot, to):
    # Trollstua's application (sample 07) waits for Statsforvalteren's letter for Maria Olsen.
    for address, msg in letters(mailroot, to):
        if address != "hilde.granli@trollstua.no":
            continue
        if "dokumentasjon" not in str(msg["Subject"]).lower():
            continue
        reply = EmailMessage()
        reply["From"] = "Hilde Granli <hilde.granli@trollstua.no>"
        reply["To"] = to
        reply["Subject"] = "SV: " + str(msg["Subject"])
        reply["Date"] = email.utils.formatdate(localtime=True)
        reply["Message-ID"] = email.utils.make_msgid(domain="trollstua.no")
        reply["In-Reply-To"] = msg["Message-ID"]
        reply["References"] = msg["Message-ID"]
        reply.set_content("""Hei,

Her er brevet fra Statsforvalteren.

Hilsen Hilde

---------- Videresendt melding ---------
Fra: Statsforvalteren i Oslo og Viken <sfovpost@statsforvalteren.no>
Subject: Tildeling av tilretteleggingsmidler for barnehagelærerutdanning 2020
To: <hilde.granli@trollstua.no>

Statsforvalteren i Oslo og Viken

Vår dato: 25.06.2020    Vår ref.: 2020/13377

Tildeling av tilretteleggingsmidler for barnehagelærerutdanning 2020

Vi viser til deres søknad om tilretteleggingsmidler for ansatte som tar
barnehagelærerutdanning.

Vedtak
Statsforvalteren tildeler Trollstua Barnehage BA kr 40 000 i tilretteleggingsmidler
for Maria Olsen, som tar ABLU ved OsloMet, for studieåret 2020/2021.
""")
        with smtplib.SMTP("127.0.0.1", int(port)) as s:
            s.send_message(reply)
        print(f"  Hilde Granli (Trollstua) answers {msg['X-Tilskudd-Case']} with the letter")
        with open(os.environ.get("TILSKUDD_DEMO_REF_FILE", "/dev/null"), "w") as f:
            f.write(str(msg["X-Tilskudd-Case"]))
        return
    sys.exit("demo: no documentation request to Trollstua found")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"config": lambda: cmd_config(*args), "send": lambda: cmd_send(args[0], args[1], args[2:]),
     "wait": lambda: cmd_wait(*args), "show": lambda: cmd_show(*args),
     "reply": lambda: cmd_reply(*args)}[cmd]()
