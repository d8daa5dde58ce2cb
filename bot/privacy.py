"""Keeping anonymous requesters anonymous: sealing, keyed markers, redaction, quiet logs.

- `Privacy.seal/unseal`: Fernet (authenticated encryption) with ALLYBOT_SECRET_KEY, for the
  requester's Slack ID, their DM channel ID and drafts. The key is never stored.
- `Privacy.marker`: HMAC-SHA256 with a key derived from the secret key by HKDF, for equality
  checks (open-case limit, pauses, "my cases") without decrypting anything.
- `redact`: removes what may identify the requester before volunteers (or allies) see a text.
- `IdentityCache`: the requester's names fetched when the request modal opens, kept briefly in
  memory so the preview's ack needs no users.info call.
- `install_log_filter`: keeps Slack and SQL payloads (logged at DEBUG by slack_bolt, slack_sdk
  and SQLAlchemy) out of every log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings

MARKER_INFO = b"allybot/requester-marker/v1"

MENTION = "[mention removed]"
NAME = "[name removed]"
EMAIL = "[e-mail removed]"
PHONE = "[phone number removed]"
LINK = "[link removed]"


class Privacy:
    """Encryption and keyed markers derived from one secret key (never stored)."""

    def __init__(self, secret_key: str) -> None:
        raw = secret_key.encode()
        self._fernet = Fernet(raw)
        self._marker_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=MARKER_INFO
        ).derive(raw)

    def seal(self, value: str) -> str:
        """Encrypt and authenticate a value; a fresh token every time."""
        return self._fernet.encrypt(value.encode()).decode()

    def unseal(self, token: str) -> str:
        """Decrypt a sealed value; raises ValueError if it was not sealed with this key."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("not a token sealed with this key") from None

    def marker(self, user_id: str) -> str:
        """A keyed hash of a Slack ID: equal IDs give equal markers, nothing gives the ID back."""
        return hmac.new(self._marker_key, user_id.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _privacy_for(secret_key: str) -> Privacy:
    return Privacy(secret_key)


def privacy(settings: Settings) -> Privacy:
    """The Privacy helper for these settings' ALLYBOT_SECRET_KEY."""
    return _privacy_for(settings.secret_key.get_secret_value())


# Redaction


@dataclass(frozen=True, repr=False)
class Identity:
    """What identifies the requester in words: names, e-mail addresses, Slack user IDs.

    Its repr counts entries and names nobody, so a log line or a failed assertion cannot show
    it.
    """

    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"<Identity: {len(self.names)} names, {len(self.emails)} e-mails, "
            f"{len(self.user_ids)} IDs>"
        )


_NAME_SEPARATORS = re.compile(r"[\s._\-]+")


def identity_from_user(user: dict[str, Any]) -> Identity:
    """The requester's names, e-mail and user ID from a users.info `user` object.

    Names are the profile's names and their parts ("Priya Raman" is also "Priya" and "Raman"),
    the e-mail's local part and its parts ("zoe.mueller"), and the first initial or first name
    with a surname ("zmuller", "z.muller", "Z. Muller", "zoemuller"): the forms user names,
    handles and personal domains are made of.
    """
    profile = user.get("profile") or {}
    email = _normalise(str(profile.get("email") or "")).strip()
    candidates = [
        user.get("name"),
        user.get("real_name"),
        profile.get("real_name"),
        profile.get("real_name_normalized"),
        profile.get("display_name"),
        profile.get("display_name_normalized"),
        profile.get("first_name"),
        profile.get("last_name"),
        " ".join(str(profile.get(k) or "") for k in ("first_name", "last_name")),
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
        names.update(_initial_forms(parts))
    words = sorted((n for n in names if len(n) >= 2), key=lambda n: (-len(n), n))
    user_id = str(user.get("id") or "").strip()
    return Identity(
        names=tuple(words),
        emails=(email,) if email else (),
        user_ids=(user_id,) if user_id else (),
    )


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


# How long a fetched identity is used, and for how many people at most (per process).
IDENTITY_TTL = 15 * 60.0
IDENTITY_SLOTS = 1000


class IdentityCache:
    """Identities fetched when someone opens the request modal, for their preview's redaction.

    In memory only (never stored, never logged: its repr counts entries), thread-safe, at most
    `size` people (the least recently stored go first), each for `ttl` seconds. A miss is
    normal (another replica opened the modal, the fetch failed): the caller looks it up then.
    """

    def __init__(
        self,
        *,
        ttl: float = IDENTITY_TTL,
        size: int = IDENTITY_SLOTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Identity]] = OrderedDict()

    def put(self, user_id: str, identity: Identity) -> None:
        """Keep this person's identity for ttl seconds from now."""
        with self._lock:
            self._entries[user_id] = (self._clock(), identity)
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def get(self, user_id: str) -> Identity | None:
        """The person's identity if it was stored less than ttl seconds ago, else None."""
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None:
                return None
            stored_at, identity = entry
            if self._clock() - stored_at >= self.ttl:
                del self._entries[user_id]
                return None
            return identity

    def discard(self, user_id: str) -> None:
        """Forget one person's identity (they asked to be forgotten)."""
        with self._lock:
            self._entries.pop(user_id, None)

    def clear(self) -> None:
        """Forget every identity."""
        with self._lock:
            self._entries.clear()

    def __repr__(self) -> str:
        with self._lock:
            return f"<IdentityCache: {len(self._entries)} of {self.size}>"


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


# Common words. A name part that is also an ordinary word ("Will", "May", "Grace", "Bill") or
# has at most two letters ("An", "Do", "Li") is matched only where it is used as a name:
# - written as a name (capital first, the rest small: "Will", not "will" or "WILL"), and at the
#   start of a sentence (where every word has a capital) only if a name's sign follows: the
#   end, punctuation, "'s", "here"/"again"/..., or a capitalised word ("Will Smith", not
#   "Will I"); a month name not in a date ("in May", "5 May", "May 12");
# - or, in any case, introduced ("I'm will", "my name is WILL"; three letters or more, so
#   "I'm an engineer" stays), or alone on its line or after a sign-off ("thanks, will").
# Otherwise "I will call" would become "I [name removed] call", which gives the name away.
# Distinctive parts ("Zoe", "Muller", "Sunflower") are matched in any case, anywhere. A name
# of two words is common if both are ("Do An"); one of three or more words, or joined by dots
# or underscores ("an.do"), never is. The list: English words in everyday use that are also
# given names, surnames or name particles, and the most frequent English words.
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
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
_MONTHS = frozenset({"april", "may", "june", "august", "march"})
_INTRODUCED = re.compile(
    r"(?:\bi\s*['\u2019]?\s*m|\bi\s+am|\bmy\s+name\s+is|\b(?:my\s+)?name['\u2019]s|\bname\s+is"
    r"|\bthis\s+is|\bcall\s+me|\bknown\s+as|\bsigned)[\s,:\-\u2013\u2014]*$",
    re.IGNORECASE,
)
_IT_IS = re.compile(r"\bit['\u2019]?s[\s,:\-\u2013\u2014]*$", re.IGNORECASE)  # not for "It's May"
_ALONE_BEFORE = re.compile(
    r"(?:\n|\b(?:thanks|thank\s+you|thx|cheers|regards|best|love|sincerely|yours|ta)"
    r"[\s,.!]*)[\s\-\u2013\u2014~*_>\"'\u201c\u2018(]*$",
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
    rf"|\s+(?!(?:{_NOT_A_SURNAME})\b)[A-Z][a-z]+\b"
)
_DATE_BEFORE = re.compile(
    r"(?:\b(?:in|by|since|until|till|before|after|during|early|late|mid|last|next|this|of"
    r"|every|each|through)\s+|\bmid-|\d\s*(?:st|nd|rd|th)?\s+(?:of\s+)?)$",
    re.IGNORECASE,
)
_DATE_AFTER = re.compile(r"\s*\d")
_LETTER = re.compile(r"[^\W\d_]")
_CONTEXT = 60


def _is_common(folded_name: str) -> bool:
    """A name only ordinary words make up ("Will", "Do An"), see _COMMON_WORDS."""
    words = folded_name.split()
    if not words or len(words) > 2:
        return False
    return all(len(w) <= 2 or w.lower() in _COMMON_WORDS for w in words)


def _written_as_name(word: str) -> bool:
    return all(w[:1].isupper() and w[1:] == w[1:].lower() for w in word.split())


def _starts_sentence(before: str) -> bool:
    stripped = before.rstrip(_OPENERS)
    if not stripped or "\n" in before[len(stripped) :]:
        return True
    return stripped[-1] in ".!?…:" and not _HONORIFIC.search(stripped)


def _used_as_name(text: str, start: int, end: int) -> bool:
    """Whether a common-word name part at text[start:end] is a name here (see _COMMON_WORDS)."""
    word = text[start:end]
    # What a word's reading depends on is close by; the text's start counts as a line's.
    before = ("\n" if start <= _CONTEXT else "") + text[max(0, start - _CONTEXT) : start]
    after = text[end : end + _CONTEXT]
    month = word.lower() in _MONTHS
    if month and (_DATE_BEFORE.search(before) or _DATE_AFTER.match(after)):
        return False
    letters = len(_LETTER.findall(word))
    if letters >= 3 and (_INTRODUCED.search(before) or (_IT_IS.search(before) and not month)):
        return True
    if _ALONE_BEFORE.search(before) and _ALONE_AFTER.match(after):
        return True
    if not _written_as_name(word):
        return False
    if month or _starts_sentence(before):
        return _NAME_FOLLOWS.match(after) is not None
    return True


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted(set(names), key=lambda n: (-len(n), n))
    if not alternatives:
        return None
    body = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in alternatives)
    return re.compile(rf"(?<![^\W\d_])(?:{body})(?![^\W\d_])", re.IGNORECASE)


def _name_spans(text: str, identity: Identity) -> Iterable[tuple[int, int, str]]:
    distinctive: set[str] = set()
    common: set[str] = set()
    for name in identity.names:
        for variant in _name_variants(name):
            (common if _is_common(variant) else distinctive).add(variant.lower())
    plain, german = _fold(text, german=False), _fold(text, german=True)
    views = (plain,) if german.text == plain.text else (plain, german)
    found: set[tuple[int, int]] = set()
    distinctive_pattern, common_pattern = _name_pattern(distinctive), _name_pattern(common)
    for view in views:
        if distinctive_pattern is not None:
            for match in distinctive_pattern.finditer(view.text):
                found.add(view.original(match.start(), match.end()))
        if common_pattern is not None:
            for match in common_pattern.finditer(view.text):
                if _used_as_name(view.text, match.start(), match.end()):
                    found.add(view.original(match.start(), match.end()))
    for start, end in found:
        yield start, end, NAME
    for email in identity.emails:
        yield from _spans(re.compile(re.escape(email), re.IGNORECASE), text, EMAIL)


_JOINER = re.compile(r"[ \t]*+[._\-]?[ \t]*+")


def redact(text: str, identity: Identity = Identity()) -> str:
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


# Logs

_PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk", "allybot.bolt", "sqlalchemy", "urllib3")


class PayloadLogFilter(logging.Filter):
    """Drops DEBUG records of libraries that log Slack payloads and SQL rows verbatim."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record unless it is a library's DEBUG line (which may carry a payload)."""
        if record.levelno >= logging.INFO:
            return True
        name = record.name
        return not any(
            name == p or name.startswith(p + ".") or name.startswith(p + ":")
            for p in _PAYLOAD_LOGGERS
        )


_FILTER = PayloadLogFilter()


def install_log_filter() -> None:
    """Keep request/response bodies out of the logs, whatever level a handler or test sets.

    The libraries' loggers are raised to INFO (so the records are not even made) and every one
    of them that exists gets the filter (so a level lowered later still logs no payload). Bolt
    copies the filters and level of the logger given to App() onto the loggers it creates.
    """
    manager = logging.Logger.manager
    for prefix in _PAYLOAD_LOGGERS:
        root = logging.getLogger(prefix)
        if root.level == logging.NOTSET or root.level < logging.INFO:
            root.setLevel(logging.INFO)
    for name in list(manager.loggerDict):
        if any(name == p or name.startswith((p + ".", p + ":")) for p in _PAYLOAD_LOGGERS):
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
