#!/usr/bin/env python3
"""Prints one `tilskudd inspect` JSON (on stdin) as a short human-readable summary."""
import json
import sys

name = sys.argv[1] if len(sys.argv) > 1 else "message"
j = json.load(sys.stdin)
d = j["decision"]
subject = j.get("message", {}).get("subject", "")
print(f"\n{name}: {subject}")
if j.get("ignored_reason"):
    print(f"  ignored: {j['ignored_reason']}")
    sys.exit(0)
app = j.get("application") or {}
print(f"  owner: {app.get('owner') or '?'} (org {app.get('org_number') or '?'}), "
      f"contact {app.get('contact_email') or '?'}")
round_ = d.get("round") or "none"
print(f"  status: {d['status']}   round: {round_}   total: kr {d['total']:,}".replace(",", " "))
for line in d["lines"]:
    amount = f"kr {line['amount']:,}".replace(",", " ")
    print(f"    - {line['employee']}: {line['outcome']} {amount}  ({line['reason_code']})")
for f in j.get("flags", []):
    print(f"  FLAG {f['code']}: {f['reason']}")
for m in d.get("missing_documentation", []):
    print(f"  missing: {m}")
