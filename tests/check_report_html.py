#!/usr/bin/env python3
"""`coreheap report` in a real browser (Debian's chromium, headless).

On a core of fixtures/scenario_suspects.py (the leaking heap):
  * the page is one file with no external resource (no src=/href= to
    anything, no URL but the SVG namespace) and a Content-Security-Policy
    that forbids fetching;
  * `chromium --headless --dump-dom` of it: the script ran to the end
    (body[data-ready="1"]) with no error (body[data-errors="0"], #errors
    empty, no "Uncaught" in chromium's console log); the suspects list has
    an entry for each suspect of `suspects --json`, kinds in the same order;
    the icicle has at least 10 frames and shows the CACHE dict's frame;
  * opened as heap.html#filter=Request, the type table lists only types
    containing "Request", at least one;
  * a screenshot is written (a non-empty PNG, left next to the core for a
    person to look at);
  * with --redact, the names of the module's globals (dict keys) appear
    nowhere in the page.

Exit 0 when everything holds, 1 otherwise, 77 (SKIP, reason printed) when
the interpreter that made the core or chromium is missing.
"""
import os
import re
import shutil
import subprocess
import sys

from check_common import run_json, standard_args


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def browse(browser, url, extra):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1300,1500",
           "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0"] + extra + [url]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def write_report(args, out, extra):
    p = subprocess.run([args.coreheap, "report", args.core, "-o", out, "-q"] + extra, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if p.returncode != 0:
        raise SystemExit("check_report_html: report exited %d: %s" % (p.returncode, p.stderr.strip()))
    with open(out, encoding="utf-8") as f:
        return f.read()


def main():
    args, truth = standard_args("check_report_html")
    browser = chromium()
    if not browser:
        print("check_report_html: SKIP: no chromium found (apt-get install chromium; scripts/install_deps.sh does)")
        return 77
    errors = []
    base = os.path.splitext(args.core)[0] if args.core.endswith(".core") else args.core
    page = base + ".report.html"
    html = write_report(args, page, [])
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", html)) - {"http://www.w3.org/2000/svg"}
    if urls or re.search(r"\b(src|href)\s*=", html):
        errors.append("the page refers to outside resources: %s" % sorted(urls)[:5])
    if "Content-Security-Policy" not in html:
        errors.append("the page has no Content-Security-Policy")

    # One chromium for the DOM and the screenshot of the same load (a
    # launch is most of this test's time).
    shot = base + ".report.png"
    if os.path.exists(shot):
        os.unlink(shot)
    rc, dom, log = browse(browser, "file://" + page, ["--dump-dom", "--screenshot=" + shot])
    if not os.path.exists(shot) or os.path.getsize(shot) < 10000:
        errors.append("no screenshot (%s)" % log.strip()[-300:])
    if rc != 0 or not dom:
        errors.append("chromium --dump-dom exited %d: %s" % (rc, log.strip()[-300:]))
        dom = ""
    if 'data-ready="1"' not in dom:
        errors.append("the script did not run to the end (no data-ready)")
    if 'data-errors="0"' not in dom or not re.search(r'<pre id="errors"></pre>', dom):
        errors.append("the page reports errors: %s" % re.findall(r'<pre id="errors">([^<]*)', dom))
    console = [l for l in log.splitlines() if "Uncaught" in l or ("CONSOLE" in l and "error" in l.lower())]
    if console:
        errors.append("console errors: %s" % console[:3])
    want = [s["kind"] for s in run_json("check_report_html", args, ["suspects", args.core, "--limit", "0"])["suspects"]]
    got = re.findall(r'<li data-kind="([a-z]+)"', dom)
    if got != want or len(got) < 5:
        errors.append("suspects in the page %s, `suspects` lists %s" % (got, want))
    frames = dom.count("<rect")
    if frames < 10:
        errors.append("the icicle has %d frames" % frames)
    if "['CACHE'] (dict)" not in dom:
        errors.append("the icicle does not show the CACHE dict's frame")

    rc, dom, log = browse(browser, "file://" + page + "#filter=Request", ["--dump-dom"])
    body = re.search(r"<tbody>(.*?)</tbody>", dom, re.S)
    rows = re.findall(r"<tr><td[^>]*>([^<]*)</td>", body.group(1)) if body else []
    if not rows or any("request" not in r.lower() for r in rows):
        errors.append("filtered type table rows: %s" % rows[:10])

    redacted = write_report(args, base + ".report-redacted.html", ["--redact"])
    for name in ("CACHE", "ERRORS", "BUS"):
        if name in redacted:
            errors.append("--redact: the page still names the global %s" % name)

    for e in errors:
        print("check_report_html: MISMATCH: %s" % e)
    if errors:
        return 1
    print("check_report_html: OK: %d suspects, %d icicle frames, %d filtered rows, screenshot %s (CPython %s)"
          % (len(got), frames, len(rows), shot, truth["version"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
