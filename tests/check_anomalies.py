#!/usr/bin/env python3
"""Checks `coreheap anomalies CORE --json` against the truth that
fixtures/scenario_anomalies.py recorded.

clean:  no refcount bug and no leak at all.
leak:   the refcount bug is exactly the Victim object (refcount 1, two
        references from a list); every leak root reported is one of the
        planted Leaky objects (nothing else is blamed), at least one is
        found (a stale copy of a leaked address left in freed memory the
        conservative scan cannot tell from live C data hides that one: a
        missed leak is possible by design, a false one is not), and for
        the Leaky group the objects kept alive are exactly what the
        process recorded for the leaks found (payload lists, payloads,
        their tags and, before 3.11, their __dict__s).
Exit 0 pass, 1 fail, 77 skipped (missing interpreter, printed with SKIP:)."""
import sys

from check_common import run_json, standard_args


def main():
    args, truth = standard_args("check_anomalies")
    doc = run_json("check_anomalies", args, ["anomalies", "--limit", "0", args.core])
    low = {int(o["address"], 16): o for o in doc["refcount_too_low"]["list"]}
    leaks = {int(o["address"], 16): o for o in doc["leaks"]["list"]}
    failures = []
    if truth["mode"] == "clean":
        if low:
            failures.append("refcount bugs reported on a clean heap: %s" % list(low.values()))
        if leaks:
            failures.append("leaks reported on a clean heap: %s" % list(leaks.values()))
    else:
        if set(low) != {truth["victim"]}:
            failures.append("refcount bugs %s, expected exactly the victim 0x%x" %
                            ([(hex(a), o["type"]) for a, o in low.items()], truth["victim"]))
        elif low[truth["victim"]]["type"] != truth["victim_type"]:
            failures.append("victim reported as %s" % low[truth["victim"]]["type"])
        planted = set(truth["leaked"])
        extra = [(hex(a), o["type"]) for a, o in leaks.items() if a not in planted]
        if extra:
            failures.append("leaks reported that were not planted: %s" % extra)
        found = planted & set(leaks)
        need = 1
        if len(found) < need:
            failures.append("found %d of the %d planted leaks, need %d" % (len(found), len(planted), need))
        groups = {g["type"]: g for g in doc["leaks"]["by_type"]}
        g = groups.get(truth["leaked_type"])
        if found and not g:
            failures.append("no leak group for %s: %s" % (truth["leaked_type"], list(groups)))
        elif g:
            kept = sum(len(truth["kept"][str(a)]) for a in found)
            if g["objects"] != len(found) or g["kept_objects"] != kept:
                failures.append("%s group: %d objects keeping %d, expected %d keeping %d" %
                                (truth["leaked_type"], g["objects"], g["kept_objects"], len(found), kept))
        print("check_anomalies: %d of %d planted leaks found" % (len(found), len(planted)))
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("check_anomalies: %s %s ok" % (truth["version"], truth["mode"]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
