#!/usr/bin/env python3
"""Parser benchmark driver for Python's email package (policy.default): the same "full" workload
and output as parse_tilskudd and parse_gmime.

  parse_email.py [--repeat N] [--check] FILE...
"""
import email
import email.policy
import json
import sys
import time


def max_rss_kb():
    """VmHWM of this process (ru_maxrss would carry the parent's peak over exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def count(msg):
    leaves = nontext = text = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        leaves += 1
        if part.get_content_maintype() == "text":
            try:
                s = part.get_content()
            except Exception:  # an unknown charset: decode as latin-1 like the others' fallback
                s = (part.get_payload(decode=True) or b"").decode("latin-1")
            text += len(s.encode("utf-8", "surrogateescape")) - s.count("\r")
        else:
            nontext += len(part.get_payload(decode=True) or b"")
    return leaves, nontext, text


def main():
    args = sys.argv[1:]
    repeat, check, files = 1, False, []
    i = 0
    while i < len(args):
        if args[i] == "--repeat":
            repeat = int(args[i + 1])
            i += 1
        elif args[i] == "--check":
            check = True
        else:
            files.append(args[i])
        i += 1
    data = [open(f, "rb").read() for f in files]
    rss_loaded = max_rss_kb()
    totals = [0, 0, 0]
    t0 = time.perf_counter()
    for r in range(repeat):
        for path, raw in zip(files, data):
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            t = count(msg)
            if r == 0:
                totals = [a + b for a, b in zip(totals, t)]
                if check:
                    print(path, *t)
    s = time.perf_counter() - t0
    print(json.dumps({"parser": "python-email", "messages": len(files),
                      "bytes": sum(len(d) for d in data), "repeat": repeat, "seconds": s,
                      "leaves": totals[0], "nontext_bytes": totals[1], "text_bytes": totals[2],
                      "max_rss_kb": max_rss_kb(),
                      "rss_after_load_kb": rss_loaded}))


if __name__ == "__main__":
    main()
