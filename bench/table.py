#!/usr/bin/env python3
"""Prints bench.py's JSON results as plain-text tables: table.py RESULTS.json"""
import json
import sys


def table(title, head, rows):
    print(f"\n{title}")
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else []
    for r in [head] + rows:
        print("  " + "  ".join(str(x).rjust(w) for x, w in zip(r, widths)))


def main():
    r = json.load(open(sys.argv[1]))
    m = r["machine"]
    print(f"tilskudd benchmarks{' (tiny)' if r.get('tiny') else ''}: {m['date']}, {m['nproc']} "
          f"CPUs {m['cpu']}, {m['ram_gib']} GiB, {m['dovecot']}, {m['mbsync']}")
    if "idle_poll" in r:
        table("1. Idle poll (second `run --once`; steady poll in a running daemon)",
              ["messages", "--once s", "bytes up", "bytes down", "--once wall ratio",
               "bytes ratio", "daemon poll ms", "daemon poll ratio", "daemon B/poll"],
              [[x["messages"], x["second_run_s"], x["second_run_bytes_up"],
                x["second_run_bytes_down"], x["wall_ratio"], x["bytes_ratio"],
                x.get("daemon_poll_ms", "-"), x.get("daemon_poll_ratio", "-"),
                x["daemon_poll_bytes"]] for x in r["idle_poll"]])
    if "backlog" in r:
        b = r["backlog"]
        rows = [["tilskudd (search, fetch, decide, send)", b["tilskudd_seconds"], "1.0"]]
        for name, v in b["peers"].items():
            secs = v["seconds"]
            if "seconds_extrapolated" in v:
                secs = f"{v['seconds_extrapolated']} (stopped at {v['seconds']}, extrapolated)"
            rows.append([f"{name} ({v['fetched']} of {v.get('messages', '?')} msgs)", secs,
                         b["ratio_" + name + "_over_ours"]])
        table(f"2. Backlog: {b['applications']} applications among {b['other_messages']} other "
              f"messages ({r.get('organisations', 1)} organisations)",
              ["run", "seconds", "peer s / ours (>= 1: ours faster)"], rows)
        st = b.get("log_stages", {})
        if st:
            print(f"  stages (s from start): search+fetch+decide done {st.get('intake_done_s')}, "
                  f"first decision in sink {st.get('first_decision_in_sink_s')}, last sent "
                  f"{st.get('sent_last_s')}")
    if "parsers" in r:
        for corpus in ("small", "applications"):
            c = r["parsers"][corpus]
            table(f"3. Parse + full decode, {corpus} corpus ({c['messages']} messages, "
                  f"{c['bytes'] / 2**20:.1f} MiB)",
                  ["parser", "MiB/s", "msg/s", "x GMime", "agree with tilskudd"],
                  [[n, v["mib_s"], v["msg_s"], v["speed_vs_gmime"], v.get("agree", "-")]
                   for n, v in c["parsers"].items()])
        b = r["parsers"]["base64"]
        print(f"  base64 (CRLF every 76): {b['decode_mib_s']} MiB/s, memcpy {b['memcpy_mib_s']} "
              f"MiB/s ({b['decode_mib_s'] / b['memcpy_mib_s']:.3f} of memcpy)")
    if "latency" in r:
        table("4. Latency LMTP delivery -> decision in the SMTP sink",
              ["mode", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "RSS MB"],
              [[x["mode"], x["measured"], x["p50_ms"], x["p90_ms"], x["p99_ms"], x["max_ms"],
                round((x["steady_rss_kb"] or 0) / 1024, 1)] for x in r["latency"]])
    if "memory" in r:
        rows = []
        for x in r["memory"]["rows"]:
            rows.append([x["message_mb"], x["daemon_peak_mb"], x["daemon_x"],
                         x.get("tilskudd_parse_x", "-"), x.get("gmime_mem_x", "-"),
                         x.get("gmime_fs_x", "-"), x.get("python_email_x", "-")])
        table("5. Peak RSS / message size (parsers: above their empty-message baseline)",
              ["message MB", "daemon peak MB", "daemon x (above idle)", "tilskudd parse x", "GMime mem x",
               "GMime fs x", "Python x"], rows)


if __name__ == "__main__":
    main()
