"""Redaction: removes what may identify the requester before volunteers (or allies) see a text.

Mentions, e-mail addresses, links, phone numbers, Slack IDs and the requester's names in any
spelling people type; ordinary words stay (removing them would itself reveal the name).
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import phonenumbers

from bot.privacy.identity import Identity

MENTION = "[mention removed]"
NAME = "[name removed]"
EMAIL = "[e-mail removed]"
PHONE = "[phone number removed]"
LINK = "[link removed]"

_NAME_SEPARATORS = re.compile(r"[\s._\-]+")
_WORDS = re.compile(r"[^\W\d_]+")


def identity_from_user(user: dict[str, Any]) -> Identity:
    """The requester's names, e-mail and user ID from a users.info `user` object.

    Names are the profile's names, their parts ("Priya Raman" is also "Priya" and "Raman") and
    neighbouring parts ("José Ángel"), the e-mail's local part and its parts ("zoe.mueller"),
    the first initial or first name with a surname ("zmuller", "z.muller", "Z. Muller",
    "zoemuller"): the forms user names, handles and personal domains are made of, and the
    common short forms of a first name, both ways ("Robert": "Rob", "Bobby"; "Bill": "William",
    "Will", "Liam"; see words.json).
    """
    profile = user.get("profile") or {}
    email = _normalise(str(profile.get("email") or "")).strip()
    first_last = " ".join(str(profile.get(k) or "") for k in ("first_name", "last_name"))
    real_names = [
        user.get("real_name"),
        profile.get("real_name"),
        profile.get("real_name_normalized"),
        first_last,
    ]
    candidates = [
        *real_names,
        user.get("name"),
        profile.get("display_name"),
        profile.get("display_name_normalized"),
        profile.get("first_name"),
        profile.get("last_name"),
        email.partition("@")[0] if "@" in email else None,
    ]
    names: set[str] = set()
    for value in candidates:
        full = _normalise(str(value or "")).strip()
        if not full:
            continue
        parts = [part for part in _NAME_SEPARATORS.split(full) if part]
        names.add(full)
        names.update(parts)
        names.update(" ".join(pair) for pair in itertools.pairwise(parts))
        names.update(_initial_forms(parts))
    firsts = [profile.get("first_name"), *real_names, profile.get("display_name")]
    for value in firsts:
        words = _normalise(str(value or "")).split()
        if words:
            names.update(_short_forms(words[0]))
    initials, surnames = _initials(
        [_normalise(str(v or "")) for v in (*real_names, profile.get("last_name"))]
    )
    words = sorted((n for n in names if len(n) >= 2), key=lambda n: (-len(n), n))
    user_id = str(user.get("id") or "").strip()
    return Identity(
        names=tuple(words),
        emails=(email,) if email else (),
        user_ids=(user_id,) if user_id else (),
        initials=initials,
        surname_initials=surnames,
    )


def _initials(real_names: list[str]) -> tuple[tuple[str, ...], str]:
    """The initials of real names ("Mary-Jane Watson-Kelly": mjwk, mw, mk) and of surnames."""
    initials: set[str] = set()
    surnames: set[str] = set()
    for real_name in real_names:
        words = [_WORDS.findall(_fold(w, german=False).text.lower()) for w in real_name.split()]
        words = [w for w in words if w]
        if not words:
            continue
        runs = [run for word in words for run in word]
        if len(words) >= 2:
            surnames.update(word[0][0] for word in words[1:])
        for letters in (
            "".join(run[0] for run in runs),
            "".join(word[0][0] for word in words),
            runs[0][0] + runs[-1][0],
            runs[0][0] + (words[1][0][0] if len(words) > 1 else ""),  # "Nguyễn Thị Lan": NT
        ):
            if 2 <= len(letters) <= 4:
                initials.add(letters)
    # A last_name field alone is a surname.
    if real_names and (last := _WORDS.findall(_fold(real_names[-1], german=False).text.lower())):
        surnames.add(last[0][0])
    return tuple(sorted(initials)), "".join(sorted(surnames))


def _short_forms(first_name: str) -> set[str]:
    """The common short forms of a first name, and what a short form is short for."""
    key = _fold(first_name, german=False).text.lower()
    forms: set[str] = set()
    for full in (key, *_SHORT_FOR.get(key, ())):
        forms.add(full)
        forms.update(_SHORT_FORMS.get(full, ()))
    forms.discard(key)
    return {form.capitalize() for form in forms}


def _initial_forms(parts: list[str]) -> Iterable[str]:
    """ "Zoë Müller" as a user name: zmüller, z.müller, z_müller, Z. Müller, Z Müller, zoemüller.

    Only with a distinctive surname: "An Do" gives no "ado", "Grace May" no "gmay".
    """
    if len(parts) < 2:
        return
    first = parts[0]
    for surname in parts[1:]:
        if _is_common(_fold(surname, german=False).text):
            continue
        initial = first[0]
        yield from (
            f"{initial}{surname}".lower(),
            f"{initial}.{surname}".lower(),
            f"{initial}_{surname}".lower(),
            f"{initial.upper()}. {surname}",
            f"{initial.upper()} {surname}",
            f"{first}{surname}".lower(),
        )


_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Anything in angle brackets is Slack markup: <@U…>, <#C…|x>, <!here>, <!subteam^…>, <url|label>.
_MARKUP = re.compile(r"<[^<>\n]*>")
_BROADCAST = re.compile(r"(?<!\w)@(?:here|channel|everyone)\b", re.IGNORECASE)
# Redaction runs before the request modal's ack (3 seconds), on up to 3000 characters anyone
# can type, so every pattern here takes linear time, whatever the text (scripts/bench_redact.py
# times the worst cases): a pattern that could start at every character of a long run
# ("a_a_a_…", "a.a.a.…") and read to its end starts only at the run's start (a lookbehind), or
# reads a bounded way (bounded repetitions).
#
# An e-mail address, also written around filters: "a.b @ c.com", "a (at) c (dot) com",
# "a dot b at c dot com". "at" as a plain word needs another sign of an address (see
# _email_spans), or "I work at corp.com" would go. It starts at the start of a word (a match
# inside one would also match from its start), with at most 8 more dotted words before the "@"
# (so that each "@" is reached from 9 starts at most; a longer address keeps its first words).
_EMAIL_CHARS = r"\w!#$%&'*+/=?^`{|}~-"
_EMAIL_WORD = rf"[{_EMAIL_CHARS}]+"
# (?<!\s): a search for these (in _email_spans) reads each run of spaces once, not once a space.
_AT_WORD = r"(?<!\s)\s+at\s+"
_DOT_WORD = r"(?<!\s)(?:\s*[(\[]\s*dot\s*[)\]]\s*|\s+dot\s+)"
_AT = rf"(?:\s*@\s*|\s*[(\[]\s*at\s*[)\]]\s*|{_AT_WORD})"
_DOT = rf"(?:\.|{_DOT_WORD})"
_EMAIL = re.compile(
    rf"(?<![{_EMAIL_CHARS}]){_EMAIL_WORD}(?:{_DOT}{_EMAIL_WORD}){{0,8}}{_AT}"
    rf"[a-z0-9-]+(?:{_DOT}[a-z0-9-]+)*{_DOT}[a-z]{{2,}}(?![\w-])",
    re.IGNORECASE,
)
# A link: scheme://… from the start of the run of scheme characters before "://" (with
# anything of that run before the scheme's first letter), www.…, mailto:…, or host/path with
# at most 16 labels before the top-level one, each of at most 63 characters (as in DNS).
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_URL = re.compile(
    r"(?:(?<![a-z0-9+.\-])[0-9+.\-]*[a-z][a-z0-9+.\-]*://\S+)"
    r"|(?:\bwww\.\S+)"
    r"|(?:\b(?:mailto|tel|slack):\S+)"
    rf"|(?:\b(?:{_HOST_LABEL}\.){{1,16}}[a-z]{{2,63}}(?::\d+)?/\S*)",  # host/path
    re.IGNORECASE,
)
# A bare domain ("josegarcia.dev", "example.co.uk"): any alphabetic top-level label, except
# the file name extensions people mention ("notes.txt", "node.js"). "ok.thanks" typed without
# a space goes too: a small loss next to a personal site.
_BARE_DOMAIN = re.compile(
    r"(?<![\w@.\-])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+([a-z]{2,24})(?::\d{2,5})?"
    r"(?![\w\-]|\.[a-z0-9])",
    re.IGNORECASE,
)
_FILE_EXTENSIONS = frozenset(
    """
    avi bat bmp cfg cpp cs csv db dll doc docx eml exe gif go gz h heic hpp htm html ics ini
    ipynb java jpeg jpg js json jsx key log md mkv mov mp3 mp4 msg pdf php png ppt pptx py rar
    rb rs rst sh sql svg tar tgz tif tiff toml ts tsx txt vcf wav webp xls xlsx xml yaml yml zip
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
# Abbreviations typed without their space: "Dr.Smith", "St.Louis", "e.g.this".
_NOT_A_HOST = frozenset(
    {"mr", "mrs", "ms", "mx", "dr", "prof", "st", "vs", "etc", "eg", "ie", "no"}
)
_HANDLE = re.compile(r"(?<![\w@])@[\w.\-]{2,}")
# A Slack user ID typed as text: U or W, then 8 to 11 capitals and digits, at least one digit
# (so "UNDERSTAND" stays). The requester's own ID goes in any case and of any length.
_SLACK_USER_ID = re.compile(r"(?<![^\W_])[UW](?=[A-Z0-9]*\d)[A-Z0-9]{8,11}(?![^\W_])")
# PhoneNumberMatcher misses numbers without a country code outside its region, numbers split
# by unusual separators (dashes, dots, underscores) and long digit runs; any run of 7+ digits
# is treated as a number. Leniency.VALID: POSSIBLE also takes years, amounts and versions
# ("2019-2021", "45 000", "3.11.4") in free text.
_PHONE_SEPARATOR = r"[\s().\-/\\_~\u00b7\u2022\u2010-\u2015\u2212]"  # also dots, dashes, minus
_DIGIT_RUN = re.compile(
    rf"(?<![\w+])(?:\(\s*)?(?:\+\s?)?\(?\d(?:{_PHONE_SEPARATOR}{{0,3}}\d){{6,}}(?![\w])"
)
_PHONE_REGIONS = ("GB", "US", "FR", "DE", "IN", "NL", "ES", "IT", "AU", "CA")
_LENIENCY = phonenumbers.Leniency.VALID
# PhoneNumberMatcher takes milliseconds a number (ten regions), and far longer on a long run of
# digits, so it is given only each run of digits that may be a number (5 digits or more, the
# only valid numbers with 4 being German pagers, joined by at most 4 separators as it joins
# them, not a date) with what it reads around one: before, a "+" or "(" and the character
# before those (a letter: no number); after, an extension or a few characters (a letter: no
# number; ":30": a time). It tries _PHONE_TRIES candidates a region (the run, then a part),
# and reads _PHONE_LOOKUPS different runs a text at most. Past those, and for a run longer than
# _PHONE_RUN_LENGTH (a list or a table, not one number), a run is taken for a number unread:
# such texts lose a few numbers rather than take seconds.
_PHONE_GAP = r"\s()\[\].\-/\\_~x\u00ad\u00b7\u2010-\u2015\u2022\u2053\u2060\u200b\u2212\u223c\u30fc"
_PHONE_RUN = re.compile(rf"\d+(?:[{_PHONE_GAP}]{{1,4}}\d+)*", re.IGNORECASE)
_PHONE_LEAD = re.compile(rf"[+\uff0b\uff08\uff3b{_PHONE_GAP}]*$", re.IGNORECASE)
_PHONE_EXTENSION = re.compile(r"[\s,]*(?:[^\W\d_]|[#\uff03~\uff5e;])")
# A number's extension goes with it, as PhoneNumberMatcher takes it ("…, ext 55", "…#12").
_NUMBER_EXTENSION = re.compile(
    r"[ \t,]*(?:e?xtn?|extension|int|[#~])[:.]?[ \t,\-]*\d{1,9}#?(?!\d)", re.IGNORECASE
)
_DIGIT = re.compile(r"\d")
_PHONE_LEAD_LENGTH, _PHONE_EXTENSION_LENGTH = 12, 24
_PHONE_TRIES, _PHONE_LOOKUPS, _PHONE_RUN_LENGTH = 2, 8, 32
# A date or a span of years is not a phone number (2024-05-01, 01/05/2024, 1.5.2024, 2019-2021).
_DATE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|(?:19|20)\d\d\s*[-/\u2013\u2014]\s*(?:19|20)\d\d)$"
)
# An extension on its own: "ext 4567", "ext. 123", "extension 123456", "x4567" (not a year
# after "extension": "contract extension 2025").
_EXTENSION = re.compile(
    r"(?<![^\W_])(?:(?:extn?|extension(?!\W*(?:19|20)\d\d(?!\d)))\.?\s*+[:#.]?\s*+\d{3,6}"
    r"|x[.:#]?\d{4,6})(?!\d)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\""


def _normalise(text: str) -> str:
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def _spans(pattern: re.Pattern[str], text: str, label: str) -> Iterable[tuple[int, int, str]]:
    for match in pattern.finditer(text):
        yield match.start(), match.end(), label


def _markup_spans(text: str) -> Iterable[tuple[int, int, str]]:
    """Slack markup, labelled by what it hides: <mailto:…> an e-mail, <https://…> a link."""
    for match in _MARKUP.finditer(text):
        inner = match.group()[1:].lower()
        if inner.startswith("mailto:"):
            label = EMAIL
        elif inner.startswith("tel:"):
            label = PHONE
        elif re.match(r"[a-z][a-z0-9+.\-]*://", inner):
            label = LINK
        else:
            label = MENTION
        yield match.start(), match.end(), label


def _email_spans(text: str) -> Iterable[tuple[int, int, str]]:
    position = 0
    # Each search is in the rest of the text, so that _EMAIL's lookbehind does not look back
    # into the address just found ("a@b.com+c@d.com" is two).
    while match := _EMAIL.search(text[position:]):
        found = match.group()
        start, end = position + match.start(), position + match.end()
        at_word = re.search(_AT_WORD, found, re.IGNORECASE)
        if at_word and "@" not in found and not re.search(r"[(\[]\s*at", found, re.IGNORECASE):
            # "at" as a word: only with "dot" as a word too, or a dot in the local part. If not,
            # an address may still start after it ("me at zoe.m at corp dot com").
            local = found[: at_word.start()]
            if "." not in local and not re.search(_DOT_WORD, found, re.IGNORECASE):
                position = start + at_word.end()
                continue
        yield start, end, EMAIL
        position = end


def _url_spans(text: str) -> Iterable[tuple[int, int, str]]:
    for match in _URL.finditer(text):
        end = match.end()
        while end > match.start() and text[end - 1] in _TRAILING:
            end -= 1
        yield match.start(), end, LINK
    for match in _BARE_DOMAIN.finditer(text):
        first = match.group().partition(".")[0].lower()
        if match.group(1).lower() not in _FILE_EXTENSIONS and first not in _NOT_A_HOST:
            yield match.start(), match.end(), LINK


def _phone_spans(text: str) -> Iterable[tuple[int, int, str]]:
    for start, end in _numbers(text):
        extension = _NUMBER_EXTENSION.match(text, end)
        yield start, extension.end() if extension else end, PHONE
    yield from _spans(_EXTENSION, text, PHONE)


def _numbers(text: str) -> Iterable[tuple[int, int]]:
    looked_up: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
    for run in _PHONE_RUN.finditer(text):
        if len(_DIGIT.findall(run.group())) < 5 or _DATE.match(run.group()):
            continue
        start, around = _around(text, run)
        key = (around, run.start() - start, run.end() - start)
        if key not in looked_up:
            if len(looked_up) >= _PHONE_LOOKUPS or len(run.group()) > _PHONE_RUN_LENGTH:
                yield run.span()
                continue
            looked_up[key] = _matched_numbers(*key)
        for number_start, number_end in looked_up[key]:
            # Only this run's numbers: a neighbour's is cut short in `around`.
            if start + number_start < run.end() and start + number_end > run.start():
                yield start + number_start, start + number_end
    for run in _DIGIT_RUN.finditer(text):
        if not _DATE.match(run.group()):
            yield run.span()


def _around(text: str, run: re.Match[str]) -> tuple[int, str]:
    """The run of digits with what PhoneNumberMatcher reads around it, and where that starts."""
    lead = _PHONE_LEAD.search(text, max(0, run.start() - _PHONE_LEAD_LENGTH), run.start())
    start = max(0, (lead.start() if lead else run.start()) - 1)
    end = run.end()
    end += _PHONE_EXTENSION_LENGTH if _PHONE_EXTENSION.match(text, end) else 3
    return start, text[start:end]


def _matched_numbers(text: str, run_start: int, run_end: int) -> list[tuple[int, int]]:
    """Where PhoneNumberMatcher finds valid numbers in text, region by region until one is
    found over all of the run text[run_start:run_end]."""
    found: list[tuple[int, int]] = []
    for region in _PHONE_REGIONS:
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=_LENIENCY, max_tries=_PHONE_TRIES
        )
        found.extend((match.start, match.end) for match in matcher)
        if any(start <= run_start and end >= run_end for start, end in found):
            break
    return found


def _user_id_spans(text: str, identity: Identity) -> Iterable[tuple[int, int, str]]:
    yield from _spans(_SLACK_USER_ID, text, MENTION)
    for user_id in identity.user_ids:
        own = re.compile(r"(?<![^\W_])" + re.escape(user_id) + r"(?![^\W_])", re.IGNORECASE)
        yield from _spans(own, text, MENTION)


# Names are matched on folded text: accents stripped (NFKD without combining marks), letters
# NFKD keeps whole spelled out, and, in a second view, German umlauts transliterated
# ("Müller" is found as "Muller" and "Mueller"). Each folded character remembers the index of
# the character it came from, so the right characters of the original text are replaced.
_FOLD_LETTERS = {
    "ß": "ss",
    "ẞ": "SS",
    "Æ": "AE",
    "æ": "ae",
    "Œ": "OE",
    "œ": "oe",
    "Ø": "O",
    "ø": "o",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ð": "D",
    "ð": "d",
    "Þ": "Th",
    "þ": "th",
    "Ħ": "H",
    "ħ": "h",
    "\u0131": "i",  # dotless i
    # Apostrophes and hyphens as people type them: "O\u2019Brien" is "O'Brien".
    "\u2018": "'",
    "\u2019": "'",
    "\u201b": "'",
    "\u02bc": "'",
    "\u02b9": "'",
    "\u2032": "'",
    "\u00b4": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
}
_GERMAN = {"Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ä": "ae", "ö": "oe", "ü": "ue"}
# "Mueller" (from an e-mail address) is also written "Muller"; only for longer results, as
# "Joel" is not "Jol".
_UMLAUT_DIGRAPH = re.compile(r"(?<=[^\W\d_])([aouAOU])[eE](?=[^\W\d_])")


@dataclass(frozen=True)
class _Folded:
    """A text folded one way; index[i] is where folded character i came from (plus the end)."""

    text: str
    index: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that folded into text[start:end]."""
        return self.index[start], max(self.index[end - 1] + 1, self.index[end])


@lru_cache(maxsize=4096)
def _fold_char(char: str, german: bool) -> str:
    if char.isascii():
        return char
    if german and char in _GERMAN:
        return _GERMAN[char]
    if char in _FOLD_LETTERS:
        return _FOLD_LETTERS[char]
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _fold(text: str, *, german: bool) -> _Folded:
    if text.isascii():
        return _Folded(text, tuple(range(len(text) + 1)))
    pieces: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        piece = _fold_char(char, german)
        pieces.append(piece)
        index.extend([position] * len(piece))
    index.append(len(text))
    return _Folded("".join(pieces), tuple(index))


def _name_variants(name: str) -> set[str]:
    plain = _fold(name, german=False).text
    variants = {plain, _fold(name, german=True).text}
    undone = _UMLAUT_DIGRAPH.sub(r"\1", plain)
    if len(undone) >= 5:
        variants.add(undone)
    return variants


# Common words. A name part that is also an everyday word ("Will", "May", "Grace", "Bill",
# "Grant"), a word or acronym of one or two letters ("An", "Do", "PR"; not "Li", "KJ"), or made
# only of such words ("Bill N", "Do An") is matched only where it is used as a name:
# - written as a name (capital first, the rest small: "Will", not "will" or "WILL"), and at the
#   start of a sentence (where every word has a capital) only if a name's sign follows: the
#   end, punctuation, "'s", "here"/"again"/..., "is my surname", a surname's initial ("Hope
#   O."), or a capitalised word ("Will Smith", not "Will I"); a month name not in a date ("in
#   May", "5 May", "May 12", "It's May already");
# - or, in any case, introduced ("I'm will", "my name is WILL", "aka hope"; three letters or
#   more, so "I'm an engineer" stays), alone on its line or after a sign-off ("thanks, will",
#   "Cheers,\nMay"), before "here" where it introduces ("hey team, faith here"), before "on
#   Slack";
# - or next to another of the person's names ("Grace (G.O.)").
# Otherwise "I will call" would become "I [name removed] call", which gives the name away.
# Distinctive parts ("Zoe", "Muller", "Sunflower", "KJ") are matched in any case, anywhere, with
# any joiner between their parts ("MaryJane", "Mary--Jane", "O'Brien", "OBrien"), and one edit
# away if they have 5 letters or more (_misspelt_spans). A name of three or more words never is
# common; a handle joined by dots or underscores ("an.do") is also matched as written. The
# list: English words in everyday use that are also given names, surnames or name particles,
# and the most frequent English words; words.json adds everyday words and short forms.
_COMMON_WORDS = frozenset(
    """
    ace ado all amber and angel any april are art ash august autumn baker ban bang bank banks
    basil bay bean bee bell ben berry best bill bin bird bishop black blaze blessing bob bold
    bond booth boy bright brook brooks brown buck bud bush but butler can candy carol case cash
    chance chapel charity chase cherry chin chip church cliff cole comfort cook cooper crane
    cross crystal daisy dale dan das dawn day dean del della den der dev did don dos dot dove
    drake drew duke dung dusty earl earnest east english fair faith fan farmer favor favour
    field finch fisher ford forest fox frank french frost gale gang gay gene german gift ginger
    glen gold good grace gray green grey guy had hail hale hall happy hardy harmony hart has
    hawk hay hazel heath heather her him his holly honey honor honour hope house how hung hunt
    hunter ibn irish ivy jack jade jay jet jewel jimmy jolly joy june justice keen kin king kit
    knight lake lamb lance lane lark law lee lemon let liberty lily little long los love low
    major man march mark marsh mason max may melody mercy miles miller misty money moon moore
    more moss new nick noble norman north not now oak old olive one our out page pan park pat
    patience peace pearl penny pepper pierce pool poppy porter potter power precious price
    prince princess promise prosper put rain raj ram raven ray reed rice rich river rob robin
    rock rod rose rosemary row royal ruby rue rusty sage said salt sandy say see shah she
    shepherd short silver singer sky small smart snow sol song sonny south spring star sterling
    stone storm strong sugar summer sun sunny swan sweet swift tan temple ten ter the too tower
    trust turner two use van von wade walker wan ward waters way well wells west white will
    willow wing winter wise wolf wood woods worth wren yang young
    ant barb cat dolly harry hank matt nacho paddy patty sue teddy willy
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
# Words of one or two letters (and short acronyms) in everyday use: a display name or initials
# made of one ("Jo" is not, "PR" is) is matched only where it is used as a name.
_SHORT_WORDS = frozenset(
    """
    ad ah al am an as at aw be bc by cv da db dc do eg eh em eu ex fy go gb ha he hi hm hq hr
    id ie if in io ip is it la lo ma me mo mr ms mx my no ny of oh ok on or os ox pa pm pr ps
    qa re so st to tv ty ui uh uk un up us ux vp vs we ya yo ai ml ft np gm gn
    ap ar ba bd bi bs ca cd ci cs dd dm ds ea em er ev fx gc gp hm ic js ld ma md nb nz oo ot
    pc pd pe po pt sa se sf sm ta tl vc de di du el le
    api asap ceo cfo coo cto dei eta etc faq fyi kpi lgbt okr ooo pto roi tba tbd usa wfh
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
_WORD_DATA = json.loads((Path(__file__).parent / "words.json").read_text("utf-8"))
# Common short forms of first names ("robert": rob, bob, bobby, ...) and the way back.
_SHORT_FORMS: dict[str, tuple[str, ...]] = {
    full: tuple(forms) for full, forms in _WORD_DATA["short_forms"].items()
}
_SHORT_FOR: dict[str, tuple[str, ...]] = {}
for _full, _forms in _SHORT_FORMS.items():
    for _form in _forms:
        _SHORT_FOR[_form] = (*_SHORT_FOR.get(_form, ()), _full)
# A word one edit from a name is a misspelling of it unless it is an everyday word or someone
# else's name ("ramen", "jelly", "Brian", "Josh").
_ORDINARY_WORDS = frozenset(_WORD_DATA["ordinary_words"])
_NOT_MISSPELT = frozenset(
    [*_ORDINARY_WORDS, *_WORD_DATA["first_names"], *_SHORT_FOR, *_COMMON_WORDS]
)
_MONTHS = frozenset({"april", "may", "june", "august", "march"})
_INTRODUCED = re.compile(
    r"(?:\bi\s*['\u2019]?\s*m|\bi\s+am|\bmy\s+name\s+is|\b(?:my\s+)?name['\u2019]s|\bname\s+is"
    r"|\bthis\s+is|\bcall\s+me|\bknown\s+as|\baka|\ba\.k\.a\.?|\bsigned)[\s,:\-\u2013\u2014]*$",
    re.IGNORECASE,
)
_IT_IS = re.compile(r"\bit['\u2019]?s[\s,:\-\u2013\u2014]*$", re.IGNORECASE)  # not for "It's May"
_ALONE_BEFORE = re.compile(
    r"(?:\n|\b(?:thanks|thank\s+you|thx|ty|tia|cheers|regards|best|love|sincerely|yours|ta"
    r"|wishes|warmly|care|bye)[\s,.!]*"
    r"|\s(?:--?|[\u2013\u2014~]))[\s\-\u2013\u2014~*_>\"'\u201c\u2018(]*$",  # or "... -- Will"
    re.IGNORECASE,
)
_ALONE_AFTER = re.compile(r"[\s.!)\"'\u201d\u2019*_~]*(?:\n|$)")
_OPENERS = " \t\r\n-\u2013\u2014\u2022*_~>\"'\u201c\u2018(["
_HONORIFIC = re.compile(r"\b(?:mr|mrs|ms|mx|dr|prof)\.?$", re.IGNORECASE)
# Capitalised words that do not make "May ..." at a sentence start a name ("I" is too short).
_NOT_A_SURNAME = (
    r"Monday|Tuesday|Wednesday|Thursday|Friday"
    r"|Saturday|Sunday|January|February|March|April|May|June|July|August|September"
    r"|October|November|December"
)
_NAME_FOLLOWS = re.compile(
    r"\s*(?:$|\n|[,;:!?.)\]]|['\u2019]s\b)"
    r"|\s+[\-\u2013\u2014]"
    r"|\s+(?i:here|again|speaking|writing|back|from)\b"
    r"|\s+(?i:is\s+my\s+(?:sur|first\s+|last\s+|family\s+|given\s+)?name)\b"
    rf"|\s+(?!(?:{_NOT_A_SURNAME})\b)[A-Z][a-z]+\b"
)
_DATE_BEFORE = re.compile(
    r"(?:\b(?:in|by|since|until|till|before|after|during|early|late|mid|last|next|this|of"
    r"|every|each|through|from|to|the|for|and|or|between)\s+|\bmid-|\d\s*(?:st|nd|rd|th)?\s+(?:of\s+)?)$",
    re.IGNORECASE,
)
_DATE_AFTER = re.compile(r"\s*\d")
_MONTH_IS = re.compile(r"\b(?:is|was|it['\u2019]?s)\s+$", re.IGNORECASE)  # "It's May already"
# "hope here," at a line's start, "(hope on Slack)": a name in any case.
_HERE = re.compile(r"\s+here\b")
# Where "faith here" introduces someone: a line's start, after punctuation or a greeting.
_HERE_AFTER = re.compile(
    r"(?:[,.!?:;(]|\b(?:hi|hey|hello|hiya|morning|afternoon|evening|all|team|folks|everyone))"
    r"[\s,!:\-]*$",
    re.IGNORECASE,
)
_ON_SLACK = re.compile(r"\s+on\s+slack\b", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_CONTEXT = 60


def _is_common(folded_name: str) -> bool:
    """A name only ordinary words make up ("Will", "Do An", "Bill N"), see _COMMON_WORDS."""
    words = folded_name.split()
    if not words or len(words) > 2:
        return False
    return all(len(w) == 1 or _is_word(w.lower()) for w in words)


def _is_word(word: str) -> bool:
    return word in _SHORT_WORDS or word in _COMMON_WORDS or word in _ORDINARY_WORDS


def _written_as_name(word: str) -> bool:
    return all(w[:1].isupper() and w[1:] == w[1:].lower() for w in word.split())


def _line_start(before: str) -> bool:
    stripped = before.rstrip(_OPENERS)
    return not stripped or "\n" in before[len(stripped) :]


def _starts_sentence(before: str) -> bool:
    stripped = before.rstrip(_OPENERS)
    if not stripped or "\n" in before[len(stripped) :]:
        return True
    return stripped[-1] in ".!?…:" and not _HONORIFIC.search(stripped)


# A surname's initial after a first name: "Hope O.", "Bill N", "May G!" (not "May I ask").
_INITIAL_AFTER = re.compile(
    r"(?:[ \t]{1,3}(?:([A-Z])|([a-z])(?=\.))|[._]([A-Za-z]))"  # also "hope o.", "priya_r"
    r"(?=\.|[ \t]*(?:$|\n|[,;:!?)\]]))"
)
_INITIALS_FOLLOW = re.compile(r"\s+(?i:here|again|speaking|writing|back)\b")
_ENDS = re.compile(r"\s*(?:$|\n|[,;:!?.)\]])")


def _initial_after(text: str, end: int, surname_initials: str) -> int | None:
    """Where a surname initial right after text[:end] ends, if one is there."""
    match = _INITIAL_AFTER.match(text, end)
    letter = (match.group(1) or match.group(2) or match.group(3)) if match else ""
    if match is None or letter.lower() not in surname_initials:
        return None
    if letter == "I" and not text.startswith(".", match.end()):
        return None  # "Priya I think" is a word; "Priya I." an initial
    return match.end()


def _around_word(text: str, start: int, end: int) -> tuple[str, str]:
    # What a word's reading depends on is close by; the text's start counts as a line's.
    before = ("\n" if start <= _CONTEXT else "") + text[max(0, start - _CONTEXT) : start]
    return before, text[end : end + _CONTEXT]


def _used_as_name(text: str, start: int, end: int, surname_initials: str = "") -> bool:
    """Whether a common-word name part at text[start:end] is a name here (see _COMMON_WORDS)."""
    word = text[start:end]
    before, after = _around_word(text, start, end)
    month = word.lower() in _MONTHS
    possessive = after.startswith(("'s", "\u2019s"))  # "from May's side": hers, not a date
    if month and not possessive and (_DATE_BEFORE.search(before) or _DATE_AFTER.match(after)):
        return False
    letters = len(_LETTER.findall(word))
    if letters >= 3 and (_INTRODUCED.search(before) or (_IT_IS.search(before) and not month)):
        return True
    signed = _initial_after(text, end, surname_initials) if surname_initials else None
    if _ALONE_AFTER.match(text, signed or end) and _ALONE_BEFORE.search(before):
        return True  # alone or signing, also with a surname's initial: "thanks,\nhope o."
    here = _HERE.match(after) and (_line_start(before) or _HERE_AFTER.search(before))
    if here or _ON_SLACK.match(after):
        return True
    if not _written_as_name(word):
        return False
    if signed is not None:
        return True  # signed with a surname's initial: "Thanks, Hope O."
    if _starts_sentence(before) or (month and _MONTH_IS.search(before)):
        return _NAME_FOLLOWS.match(after) is not None
    # Within a sentence, a name: "ask May about it" (a month is in a date: "in May", "May 5").
    return True


def _used_as_initials(text: str, start: int, end: int) -> bool:
    """Whether initials that are also a word or an acronym ("PR", "K J") are a name here:
    introduced, signing, alone on a line, or followed by "here"/"again"/..."""
    before, after = _around_word(text, start, end)
    if _ALONE_AFTER.match(after) and _ALONE_BEFORE.search(before):
        return True
    if _ENDS.match(after) and (_INTRODUCED.search(before) or _IT_IS.search(before)):
        return True
    return _INITIALS_FOLLOW.match(after) is not None


_RUN = re.compile(r"[^\W_]+")
# Between the parts of a name: nothing, spaces, apostrophes, hyphens, dots, underscores, as
# many as typed ("MaryJane", "Mary Jane", "Mary--Jane", "O'Brien", "OBrien", "O Brien").
_PART_JOINER = r"[\s'\-._]*+"
_BOUNDED = r"(?<![^\W\d_])(?:{})(?![^\W\d_])"
_LETTER_SPACED = r"[ .\-_*]"


def _alternation(patterns: Iterable[str], flags: int = re.IGNORECASE) -> re.Pattern[str] | None:
    # Longest first, so that the longest spelling wins where several start at one place.
    alternatives = sorted(set(patterns), key=lambda p: (-len(p), p))
    if not alternatives:
        return None
    return re.compile(_BOUNDED.format("|".join(alternatives)), flags)


def _initials_forms(letters: str) -> tuple[str, str, str]:
    """ "KJ" as typed: plain (KJ), dotted (K.J., K. J.), spaced (K J)."""
    escaped = [re.escape(c) for c in letters.upper()]
    return "".join(escaped), r"[.\-]\s?".join(escaped) + r"\.?", r"\s".join(escaped)


@dataclass(frozen=True)
class _NameMatcher:
    """An identity's names, compiled once: patterns, and the index of one-edit misspellings."""

    distinctive: re.Pattern[str] | None  # any case, anywhere
    common: re.Pattern[str] | None  # only where used as a name (_used_as_name)
    upper_initials: re.Pattern[str] | None  # written in capitals, anywhere
    context_initials: re.Pattern[str] | None  # in capitals, where used as a name
    misspelt: dict[str, frozenset[str]]  # a name and each of its deletions -> the names
    word_names: frozenset[str]  # names that are words: misspelt only if written as a name
    lengths: tuple[int, int]  # the shortest and longest word that may be a misspelling
    surname_initials: str


_MISSPELT_FROM = 5  # a name of this many letters or more is also found misspelt


def _deletions(word: str) -> Iterable[str]:
    return (word[:i] + word[i + 1 :] for i in range(len(word)))


def _one_edit(a: str, b: str) -> bool:
    """Whether a and b are one edit apart (a letter changed, added, dropped, or two swapped)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        first, second = diffs[0], diffs[-1]
        return (
            len(diffs) == 2
            and second == first + 1
            and (a[first], a[second]) == (b[second], b[first])
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _matcher(identity: Identity) -> _NameMatcher:
    """The identity's names compiled, once per identity (kept on it, see Identity)."""
    if not identity._compiled:
        identity._compiled.append(_compile(identity))
    matcher: _NameMatcher = identity._compiled[0]
    return matcher


def _compile(identity: Identity) -> _NameMatcher:
    distinctive: set[str] = set()
    common: set[str] = set()
    upper: set[str] = set()
    context: set[str] = set()
    tokens: set[str] = set()
    word_tokens: set[str] = set()
    for name in identity.names:
        for variant in _name_variants(name):
            variant = variant.lower()
            runs = _RUN.findall(variant)
            if not runs:
                continue
            flexible = _PART_JOINER.join(re.escape(run) for run in runs)
            if _is_common(" ".join(runs)):
                common.add(flexible)
                if len(runs) == 1 and variant.isalpha() and variant not in _SHORT_FOR:
                    word_tokens.add(variant)  # "Grant": "Garnt" is a name, "grand" a word
                if re.search(r"[^\w\s]|_", variant):  # "an.do", "may.g": a handle as written
                    distinctive.add(re.escape(variant))
            else:
                distinctive.add(flexible)
                if len(runs) == 1 and len(variant) == 2 and variant.isalpha():
                    distinctive.add(_initials_forms(variant)[1])  # "KJ" also as "K.J.", "K-J"
                if len(runs) == 1 and len(variant) >= 4 and variant.isalpha():
                    distinctive.add(_LETTER_SPACED.join(map(re.escape, variant)))  # "P R I Y A"
                # Short forms ("Billy") come from a table, not from what the person typed.
                tokens.update(run for run in runs if run.isalpha() and run not in _SHORT_FOR)
                if len(runs) > 1 and "".join(runs).isalpha():
                    tokens.add("".join(runs))
    for letters in identity.initials:
        plain, dotted, spaced = _initials_forms(letters)
        if letters in _SHORT_WORDS or letters in _NOT_MISSPELT:
            context.update((plain, dotted, spaced))  # "PR": a pull request, unless signed
        elif len(letters) == 2:
            distinctive.update((plain, dotted))  # "KJ", "kj", "K.J."
            context.add(spaced)
        else:
            distinctive.add(dotted)  # "M.J.W.K."; "MJWK" in capitals, "mjwk" may be a word
            upper.add(plain)
            context.add(spaced)
    misspelt: dict[str, set[str]] = {}
    for token in tokens | word_tokens:
        if len(token) < _MISSPELT_FROM:
            continue
        for key in (token, *_deletions(token)):
            misspelt.setdefault(key, set()).add(token)
    lengths = (min(map(len, misspelt)), max(map(len, misspelt)) + 1) if misspelt else (0, 0)
    return _NameMatcher(
        distinctive=_alternation(distinctive),
        common=_alternation(common),
        upper_initials=_alternation(upper, 0),
        context_initials=_alternation(context, 0),
        misspelt={key: frozenset(names) for key, names in misspelt.items()},
        word_names=frozenset(word_tokens - tokens),
        lengths=lengths,
        surname_initials=identity.surname_initials,
    )


# A word as a misspelling is read: letters, with apostrophes or hyphens inside ("O'Brein").
_SPELT_WORD = re.compile(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")


_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ly")


def _is_ordinary(word: str) -> bool:
    """An everyday word or someone else's name, also with an ending ("bills", "jellies")."""
    if word in _NOT_MISSPELT:
        return True
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            stem = word[: -len(ending)]
            if stem in _NOT_MISSPELT or (
                ending == "es" and stem.endswith("i") and f"{stem[:-1]}y" in _NOT_MISSPELT
            ):
                return True
    return False


def _misspelt_spans(view: _Folded, matcher: _NameMatcher) -> Iterable[tuple[int, int]]:
    """Words one edit from a name of 5 letters or more that are not words or others' names."""
    shortest, longest = matcher.lengths
    for match in _SPELT_WORD.finditer(view.text):
        whole = match.group().lower()
        if whole.endswith("'s"):  # a possessive stays: "Priyas's" -> "[name removed]'s"
            whole = whole[:-2]
        joined = whole.replace("'", "").replace("-", "")
        candidates = [(joined, match.start(), match.start() + len(whole))]
        if joined != whole:
            candidates += [
                (run.group(), match.start() + run.start(), match.start() + run.end())
                for run in _WORDS.finditer(whole)
            ]
        for word, start, end in candidates:
            if not shortest <= len(word) <= longest or _is_ordinary(word):
                continue
            keys = (word, *_deletions(word))
            names = {name for key in keys for name in matcher.misspelt.get(key, ())}
            near = [name for name in names if _one_edit(word, name)]
            if near and (
                not set(near) <= matcher.word_names or _written_as_name(view.text[start:end])
            ):
                yield start, end
                break


# Between two names of one person: "Grace (G.O.)", "May ([name removed])", "Hope / KJ".
_NEXT_TO = re.compile(r"[\s(),\[\]/|\-]{0,4}(?:(?i:aka|a\.k\.a\.)[\s(),\[\]/|\-:]{0,3})?")


def _name_spans(text: str, identity: Identity) -> Iterable[tuple[int, int, str]]:
    matcher = _matcher(identity)
    plain, german = _fold(text, german=False), _fold(text, german=True)
    views = (plain,) if german.text == plain.text else (plain, german)
    found: set[tuple[int, int]] = set()
    initials = matcher.surname_initials
    for view in views:
        spans: list[tuple[int, int]] = []
        # Name-shaped words read as words here ("Grace", "PR"): names next to another name.
        maybe: list[tuple[int, int]] = []
        if matcher.distinctive is not None:
            spans += [m.span() for m in matcher.distinctive.finditer(view.text)]
        if matcher.common is not None:
            for m in matcher.common.finditer(view.text):
                if _used_as_name(view.text, m.start(), m.end(), initials):
                    spans.append(m.span())
                elif _written_as_name(m.group()):
                    maybe.append(m.span())
        if matcher.upper_initials is not None:
            spans += [m.span() for m in matcher.upper_initials.finditer(view.text)]
        if matcher.context_initials is not None:
            for m in matcher.context_initials.finditer(view.text):
                is_name = _used_as_initials(view.text, m.start(), m.end())
                (spans if is_name else maybe).append(m.span())
        if matcher.misspelt:
            spans += _misspelt_spans(view, matcher)
        if maybe:
            spans += _next_to_names(view.text, spans, maybe)
        for start, end in spans:
            # A surname's initial after the name goes with it: "Priya R.", "Hope O."
            if initials and (signed := _initial_after(view.text, end, initials)) is not None:
                end = signed
            found.add(view.original(start, end))
    for start, end in found:
        yield start, end, NAME
    for email in identity.emails:
        yield from _spans(re.compile(re.escape(email), re.IGNORECASE), text, EMAIL)


def _next_to_names(
    text: str, names: list[tuple[int, int]], maybe: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The name-shaped words next to a name, or to each other: one person's names together."""
    every = sorted({*names, *maybe})
    close = [
        (a, b)
        for a, b in itertools.pairwise(every)
        if a[1] <= b[0] and _NEXT_TO.fullmatch(text, a[1], b[0])
    ]
    near = {span for pair in close for span in pair}
    return [span for span in maybe if span in near]


_JOINER = re.compile(r"[ \t]*+[._\-]?[ \t]*+")


_NOBODY = Identity()


def redact(text: str, identity: Identity = _NOBODY) -> str:
    """The text with mentions, links, e-mails, phone numbers and the requester's names removed."""
    text = _normalise(text)
    # Of two equal spans the one listed first wins: "zoe.mueller" is a name, not a link.
    spans = [
        *_markup_spans(text),
        *_spans(_BROADCAST, text, MENTION),
        *_email_spans(text),
        *_name_spans(text, identity),
        *_user_id_spans(text, identity),
        *_url_spans(text),
        *_phone_spans(text),
        *_spans(_HANDLE, text, MENTION),
    ]
    if not spans:
        return text
    # Merge overlapping spans (the earliest, longest wins the label), and neighbours of one
    # label with only a space or a dot, dash or underscore between ("José García",
    # "zoe_mueller": one name, not two), and rebuild the text once.
    spans.sort(key=lambda s: (s[0], -s[1]))
    merged: list[list[Any]] = []
    for start, end, label in spans:
        if merged and (
            start < merged[-1][1]
            or (label == merged[-1][2] and _JOINER.fullmatch(text[merged[-1][1] : start]))
        ):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, label])
    out: list[str] = []
    cursor = 0
    for start, end, label in merged:
        out.append(text[cursor:start])
        out.append(label)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)
