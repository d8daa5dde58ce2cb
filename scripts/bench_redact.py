"""Benchmark: redaction time on adversarial and normal texts (run on purpose, not in CI).

    .venv/bin/python scripts/bench_redact.py [--repeat 3] [--budget-ms 50] [--only NAME]

Redaction runs before the anonymous request modal is acknowledged (Slack needs the ack within
3 seconds), on up to 3000 characters the requester typed. The script times `redact` with a
realistic identity (Zoë Müller, display name Will, zoe.mueller@corp.com, U012AB3CD4E) on texts
of 3000 characters each: long runs of letters, dots, dashes, underscores, digits with
separators, '@', spaces, repeated names, "at"/"dot" words, emoji and accents, many different
numbers, normal prose, and the name forms redaction reads in context (sign-offs with a
surname initial, initials, typographic apostrophes, misspellings, short forms, many different
words each looked up as a possible misspelling). Each text is redacted `--repeat` times and its
median counts. It prints every text's time, the worst and the median, and exits 1 if the worst
exceeds the budget (50 ms, issue 8).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bot.privacy import identity_from_user, redact

LENGTH = 3000

IDENTITY = identity_from_user(
    {
        "id": "U012AB3CD4E",
        "name": "will",
        "real_name": "Zoë Müller",
        "profile": {
            "real_name": "Zoë Müller",
            "real_name_normalized": "Zoe Muller",
            "display_name": "Will",
            "display_name_normalized": "Will",
            "first_name": "Zoë",
            "last_name": "Müller",
            "email": "zoe.mueller@corp.com",
        },
    }
)

PROSE = (
    "Hi, I'd like to talk to someone about my manager. Since May he keeps interrupting me in "
    "meetings and I will not raise it with him directly. Will you help? It happens on Mondays "
    "at 10.30 a.m. and in the 2024-05-01 review, see notes.txt and the plan at 5. Thanks! "
)


def _fill(unit: str) -> str:
    """`unit` repeated to exactly LENGTH characters."""
    return (unit * (LENGTH // len(unit) + 1))[:LENGTH]


def inputs() -> dict[str, str]:
    """Every benchmark text by name (each LENGTH characters long)."""
    units = {
        # normal
        "prose": PROSE,
        "prose+contacts": PROSE + "Zoë Müller, zoe.mueller@corp.com, +44 7700 900123, x.io. ",
        # letters and word characters
        "letters": "a",
        "a_": "a_",
        "ab-": "ab-",
        "a-": "a-",
        "a.": "a.",
        "ab.": "ab.",
        "a.b-": "a.b-",
        "a1.": "a1.",
        "dots": ".",
        "dashes": "-",
        "underscores": "_",
        "a.-_": "a.-_",
        # digits with separators
        "digits": "1",
        "1-": "1-",
        "1.": "1.",
        "1 ": "1 ",
        "12 (": "12 (",
        "1/": "1/",
        "12345, ": "12345, ",
        "1 -- ": "1 -- ",
        "+1 ": "+1 ",
        "digits/letters": "1a",
        # '@' and e-mail-like
        "at signs": "@",
        "a@": "a@",
        "a@b.": "a@b.",
        "a.b@": "a.b@",
        "a @ ": "a @ ",
        "@a.": "@a.",
        "x@y.z ": "x@y.z ",
        # at / dot words
        "at words": "a at ",
        "dot words": "a dot ",
        "at dot": "a at b dot ",
        "(at)": "a (at) ",
        "(dot)": "a (dot) ",
        "[at][dot]": "a [at] b [dot] ",
        # links
        "www.": "www.",
        "a.b/": "a.b/",
        "http://": "http://",
        "a:": "a:",
        "a.b:1": "a.b:1",
        "mailto:": "mailto:",
        # spaces and markup
        "spaces": " ",
        "tabs/newlines": " \t\n",
        "angles": "<",
        "<a": "<a",
        "<@U": "<@U",
        # names and name context
        "Will ": "Will ",
        "will ": "will ",
        "Zoë Müller ": "Zoë Müller ",
        "zoe.mueller": "zoe.mueller.",
        "Thanks, Will": "Thanks, Will\n",
        "I'm ": "I'm ",
        "May ": "May ",
        "Mr.": "Mr.",
        "ext": "ext ",
        "U1": "U1",
        "uppercase": "UA",
        # sign-offs, initials, apostrophes, misspellings, short forms
        "Thanks, Will M.": "Thanks, Will M.\n",
        "Will M. ": "Will M. ",
        "ZM here ": "ZM here ",
        "Z.M. ": "Z.M. ",
        "Z M ": "Z M ",
        "M u l l e r ": "M u l l e r ",
        "Thanks - will m.": "Thanks - will m.\n",
        "Müller-apostrophe-s ": "M\u00fcller\u2019s ",
        "O-apostrophe ": "O\u2019 ",
        "Mullr Zoee ": "Mullr Zoee ",
        "Mueler-Zoë ": "Mueler-Zo\u00eb ",
        "Grace (G.O.) ": "Grace (G.O.) ",
        "Wills ": "Wills ",
        "a-b'c ": "a-b'c ",
        "a'": "a'",
        # unicode
        "emoji": "\U0001f600",
        "emoji+text": "\U0001f600 a",
        "accents": "é",
        "combining": "e\u0301",
        "umlauts": "ü",
        "invisible": "a\u200b",
        "wide": "\uff41",
    }
    texts = {name: _fill(unit) for name, unit in units.items()}
    # Many different numbers: each is looked up on its own.
    texts["numbers, "] = _fill("".join(f"{n}, " for n in range(10000, 10500)))
    texts["phones, "] = _fill("".join(f"020 7946 {n:04d}, " for n in range(300)))
    texts["dates, "] = _fill(
        "".join(f"2024-{m:02d}-{d:02d}, " for m in range(1, 13) for d in range(1, 29))
    )
    # One long run of spaces inside what may be an address or an extension.
    for head, tail in (("a", "@b.com"), ("a", "at b dot com"), ("a.b", "(at) b.com"), ("ext", "a")):
        texts[f"{head} ... {tail}"] = head + " " * (LENGTH - len(head) - len(tail)) + tail
    texts["blocks, "] = _fill("".join(f"1 -- 2 -- 3 -- 4 -- 5 -- {n}, " for n in range(200)))
    # Many different words, each looked up as a possible misspelling of a name.
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = (
        "".join(letters[(n * 7 + k * 11 + n // 26) % 26] for k in range(4 + n % 5))
        for n in range(600)
    )
    texts["different words"] = _fill(" ".join(words) + " ")
    texts["Capitalised words"] = _fill(
        " ".join(w.capitalize() for w in texts["different words"].split()) + " "
    )
    texts["slashes, "] = _fill("".join(f"1/2/3/4/5/6/7/{n}, " for n in range(300)))
    return texts


def _time(text: str, repeat: int) -> float:
    """The median wall time of `repeat` redactions of text, in seconds."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        redact(text, IDENTITY)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> int:
    """Run the benchmark and print a summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget-ms", type=float, default=50.0)
    parser.add_argument("--only", action="append", default=[], help="a text's name")
    args = parser.parse_args()
    texts = inputs()
    if args.only:
        texts = {name: texts[name] for name in args.only}
    redact("warm up the caches, zoe.mueller@corp.com", IDENTITY)
    results = {name: _time(text, args.repeat) for name, text in texts.items()}
    for name, seconds in sorted(results.items(), key=lambda r: -r[1]):
        print(f"{seconds * 1000:8.1f} ms  {name}")
    worst = max(results, key=lambda name: results[name])
    median = statistics.median(results.values())
    print(
        f"{len(results)} texts of {LENGTH} characters: median {median * 1000:.1f} ms, "
        f"worst {results[worst] * 1000:.1f} ms ({worst}), budget {args.budget_ms:.0f} ms"
    )
    return 0 if results[worst] * 1000 <= args.budget_ms else 1


if __name__ == "__main__":
    sys.exit(main())
