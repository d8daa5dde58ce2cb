"""Redaction on realistic anonymous requests: what identifies the requester goes, the rest stays.

A held-out style check (issue 8, part 7): a few hundred requests written in many styles
(formal, chatty, lists, all lower case, signed, introduced, third person), each by one of a
set of requesters whose names are ordinary words, two letters, initials, accented, hyphenated,
with apostrophes, or have short forms, and written the ways people type them (case, accents
dropped, curly apostrophes, hyphens dropped or doubled, one letter wrong, short forms). At
least 98% of what identifies the requester must go and at least 95% of the other words stay.
Plus properties (hypothesis): any spelling of a profile name goes; text without names stays.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.privacy import EMAIL, LINK, MENTION, NAME, PHONE, Identity, identity_from_user, redact


@dataclass(frozen=True)
class Person:
    """A requester: their profile, and the ways they may write who they are."""

    first: str
    last: str
    display: str
    email: str
    short: tuple[str, ...] = ()  # short forms of the first name they may sign with

    def user(self) -> dict[str, Any]:
        """Their users.info `user` object."""
        real = f"{self.first} {self.last}"
        return {
            "id": "U0EVAL0001",
            "name": self.email.partition("@")[0],
            "real_name": real,
            "profile": {
                "real_name": real,
                "real_name_normalized": _plain(real),
                "display_name": self.display,
                "display_name_normalized": _plain(self.display),
                "first_name": self.first,
                "last_name": self.last,
                "email": self.email,
            },
        }

    def identity(self) -> Identity:
        """What redaction knows of them."""
        return identity_from_user(self.user())


PEOPLE = [
    Person("Hope", "O'Neill", "hope", "hope.oneill@corp.example"),
    Person("William", "Nakamura", "Bill N", "wnakamura@corp.example", ("Bill", "Will", "Billy")),
    Person("May", "Grant", "may.g", "may.grant@corp.example"),
    Person("Grace", "Okafor", "Grace O", "gokafor@corp.example"),
    Person("Kavya", "Joshi", "KJ", "kavya.joshi@corp.example"),
    Person("Mary-Jane", "Watson-Kelly", "MJ", "mj.watsonkelly@corp.example"),
    Person("Siobhán", "O'Brien", "Siobhan", "sobrien@corp.example"),
    Person("Zoë", "Müller", "zoe", "zoe.mueller@corp.example"),
    Person("José Ángel", "Peña", "Pepe", "jose.pena@corp.example"),
    Person("Robert", "Kowalski", "Robert K", "rkowalski@corp.example", ("Rob", "Bob", "Bobby")),
    Person("Katherine", "Dubois", "kdubois", "kdubois@corp.example", ("Kate", "Katie", "Kathy")),
    Person("Priya", "Raman", "Sunflower", "priya.raman@corp.example"),
    Person("Łukasz", "Wójcik", "lukasz", "lwojcik@corp.example"),
    Person("Nguyễn", "Thị Lan", "Lan", "lan.nguyen@corp.example"),
    Person("Elizabeth", "D'Souza", "Liz", "liz.dsouza@corp.example", ("Liz", "Beth", "Lizzie")),
    Person("Will", "Ferreira", "Will F", "wferreira@corp.example"),
    Person("Jean-Luc", "Ndiaye", "JL", "jl.ndiaye@corp.example"),
    Person("Alexander", "Petrov", "Sasha", "apetrov@corp.example", ("Alex", "Sasha")),
    Person("Rose", "Abernathy", "rosie", "rose.abernathy@corp.example"),
    Person("Søren", "Kierkegaard-Holm", "Soren", "skh@corp.example"),
    Person("Faith", "Adeyemi", "faith.a", "fadeyemi@corp.example"),
    Person("Summer", "Lee", "summer", "slee@corp.example"),
    Person("Ali", "Hassan", "Ali H", "ali.hassan@corp.example"),
    Person("Daniel", "Smith", "Dan S", "dsmith@corp.example", ("Dan", "Danny")),
    Person("Samantha", "Taylor", "Sam", "staylor@corp.example", ("Sam", "Sammy")),
    Person("Ana", "Lima", "AL", "ana.lima@corp.example"),
    Person("Max", "Weber", "maxw", "max.weber@corp.example"),
    Person("Joy", "Park", "Joy P", "joy.park@corp.example"),
    Person("Xi", "Chen", "XC", "xi.chen@corp.example"),
    Person("Bo", "Li", "Bo", "bo.li@corp.example"),
    Person("Christopher", "O'Connor", "Chris", "coconnor@corp.example", ("Chris", "Kit")),
    Person("Ngozi", "Okonjo-Iweala", "Ngozi", "nokonjo@corp.example"),
    Person("Anne-Marie", "Dupont", "AM", "amdupont@corp.example"),
    Person("Rosa", "Ramírez", "rosa", "rosa.ramirez@corp.example"),
    Person("Dmitri", "Volkov", "dima", "dvolkov@corp.example"),
    Person("Precious", "Nkosi", "Precious N", "pnkosi@corp.example"),
]


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ł", "l")


def _misspelt(word: str, rng: random.Random) -> str:
    """The word one edit away (letters swapped, dropped or doubled), as typos are."""
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(("swap", "drop", "double"))
    if kind == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    return word[: i + 1] + word[i] + word[i + 1 :]


def _curly(text: str) -> str:
    return text.replace("'", "\u2019")


def _spellings(person: Person, rng: random.Random) -> dict[str, str]:
    """How this person's names are written in one request."""
    first_word = person.first.split()[0]
    last = person.last
    initials = first_word[0] + last[0]
    style = rng.choice(("as is", "lower", "plain", "curly", "upper"))
    full = f"{person.first} {last}"
    written = {
        "as is": full,
        "lower": full.lower(),
        "plain": _plain(full),
        "curly": _curly(full),
        "upper": full.upper(),
    }[style]
    lasts = [
        last,
        _curly(last),
        last.replace("-", ""),
        last.replace("-", "--"),
        last.replace("'", ""),
        _plain(last),
    ]
    firsts = [first_word, _plain(first_word), first_word.lower()]
    return {
        "full": written,
        "first": rng.choice(firsts),
        "First": first_word,
        "last": rng.choice(lasts),
        "display": person.display,
        "email": person.email,
        "handle": person.email.partition("@")[0],
        "initials": rng.choice((initials.upper(), ".".join(initials.upper()) + ".")),
        "typo": _misspelt(_plain(max((first_word, last), key=len)), rng),
        "short": rng.choice(person.short or (first_word,)),
        "possessive": rng.choice((f"{first_word}'s", f"{first_word}\u2019s")),
    }


# {…} marks what identifies the requester; everything else is ordinary text to keep.
TEMPLATES = [
    "Hi, I'm {full} and I hope someone can help. My manager keeps talking over me in "
    "meetings and I will not raise it alone. Thanks, {First} {last0}.",
    "hello! it's {first} from the payments team. could an ally sit in on my one to one "
    "next week? i may need support with a grace period on a deadline.",
    "I would like help preparing for a difficult conversation with my lead about workload.\n"
    "Best,\n{First}",
    "Context: I joined in May. I have been left out of planning.\n- what would help: a "
    "sounding board\n- timing: any afternoon\n\n{initials}",
    "{display} here. Someone keeps mispronouncing my name on purpose in stand-ups. I will "
    "try to bill fewer hours this month to make time for this.",
    "My name is {full}. Please contact me at {email} or on Slack as @{handle}. The issue is "
    "a pattern of jokes about my accent.",
    "Could someone help me draft a message to HR? I am worried they will not take it "
    "seriously. {possessive} manager is also involved. Cheers, {short}",
    "I'd like an ally to come with me to the review meeting. I hope that is OK. May I also "
    "ask for advice on documenting incidents? -- {First} {last0}",
    "Quick one: {typo} here. Is there a way to raise a complaint about a peer without my "
    "team knowing it came from me? Thank you",
    "Hey, {short} here. I keep being asked to take notes in every meeting because I am the "
    "only woman on the team. Would love to talk it through.",
    "As a new starter I do not know who to ask about reasonable adjustments. I will be "
    "working from the Lisbon office. Regards, {full}",
    "Please note this is about my line manager, not my team. If it helps, I am {first} on "
    "the data platform squad ({display} on Slack).",
    "i need someone to listen. work has been hard since the reorg in march and i feel "
    "invisible. thanks\n{first}",
    "Hi all, {First} {last} writing. I would appreciate guidance on how to ask for a pay "
    "review without it being held against me.",
    "Looking for an ally who has been through a promotion panel. Mine is in June and I "
    "have doubts about the process. {initials} ({email})",
    "Not sure this is the right place but here goes: {last} is my surname and people "
    "make the same joke every day. It is wearing me down.",
    "I hope it is fine to ask this anonymously. A senior colleague made comments about my "
    "religion at the offsite. I will share details with whoever takes this.\n\u2014 {short}",
    "Would anyone be willing to review my self assessment before the deadline? I tend to "
    "undersell my work. Many thanks, {First} {last0}.",
    "{display}: my pronouns keep being ignored in emails from another department. What "
    "can I do that is not confrontational?",
    "I am looking for someone to practise a presentation with. English is my second "
    "language and I get nervous. Kind regards,\n{full}\n{email}",
    "hi its {typo}, sorry for typos. my team lead shouts at me in front of others and i "
    "dont know if that is normal here",
    "Request from {possessive} side of the team: we need someone neutral to help us talk "
    "about who gets the interesting work. Best wishes, {short}",
    "I will keep this short. I need advice on asking for flexible hours for caring "
    "duties. My manager said it may be difficult. Thanks, {initials}",
    "Hello. I am {first} {last}. A client made a racist remark on a call and my manager "
    "laughed. I would like support deciding whether to report it.",
    "Any ally who knows the parental leave policy well? I hope to return part time in "
    "August. Cheers,\n{First} {last0}.",
    "This is {display}. Someone keeps touching my hair at the office. I have asked them "
    "to stop. What else can I do?",
    "Could we meet for a coffee chat? I feel isolated as the only remote person in a "
    "team that sits together. {First} ({initials})",
    "Writing on behalf of myself, {full}. I need help understanding how to escalate a "
    "safety concern without being labelled as difficult.",
    "Bill me for the coffee if you like! Seriously though, I need a mentor for the next "
    "few months while I settle in. Thanks, {short} {last0}.",
    "hey team, {first} here :) quick q - my skip level keeps scheduling 1:1s at 7am my time. "
    "how do i push back?? ty, {initials}",
    "Good morning. My name is {full} ({email}). I would like to request support regarding a "
    "colleague who makes comments about my faith and my summer plans.",
    "1) what: being talked over\n2) who: my lead\n3) when: daily standups\n\nthank you!! - {short}",
    "So I was told my promotion is on hold because of 'attitude'. Is this normal? I have faith "
    "in the process but I'm not sure. {First} {last0}",
    "Requesting an ally for the all-hands Q&A. I'd like to ask about pay equity without being "
    "singled out. {display} / {email}",
    "I am {First}, the new data engineer. People keep calling me by the wrong name and "
    "laughing, including {possessive} own manager. -- {last}",
    "Please help: {typo} here, I'm being excluded from lunch and social events. It has been "
    "going on since summer. Joy is not something I feel at work now.",
    "Could I get advice? My max working hours are being ignored. Park that for now, the main "
    "issue is my lead. {initials} (aka {display})",
    "Hello allies,\nI'm looking for a mentor from a similar background.\nWarmly,\n{full}",
    "URGENT: my manager shared my health info with the team. What should I do? Reach me as "
    "{handle} on slack. {First}",
    "Thanks for reading. I have a grace period on my visa and I will need some flexibility "
    "from my manager. Is that something an ally can help with? - {typo}",
]


def _fill(template: str, person: Person, rng: random.Random) -> tuple[str, list[str], str]:
    """The request text, what identifies the requester in it, and the ordinary text alone."""
    spellings = _spellings(person, rng)
    spellings["last0"] = person.last[0] + "."
    found: list[str] = []

    def put(match: re.Match[str]) -> str:
        value = spellings[match.group(1)]
        found.append(value.rstrip("."))
        return value

    text = re.sub(r"\{(\w+)\}", put, template)
    ordinary = re.sub(r"\{(\w+)\}", " ", template)
    return text, found, ordinary


def _requests() -> list[tuple[Person, str, list[str], str]]:
    rng = random.Random(8)
    requests = []
    for round_ in range(8):
        for index, template in enumerate(TEMPLATES):
            person = PEOPLE[(index * 7 + round_ * 5) % len(PEOPLE)]
            requests.append((person, *_fill(template, person, rng)))
    return requests


_PLACEHOLDERS = re.compile("|".join(re.escape(p) for p in (NAME, EMAIL, MENTION, PHONE, LINK)))
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")


def _count(needle: str, haystack: str) -> int:
    return len(re.findall(rf"(?<![^\W\d_]){re.escape(needle)}(?![^\W\d_])", haystack))


def test_realistic_requests_lose_what_identifies_and_keep_the_rest() -> None:
    """At least 98% of identifiers go and at least 95% of the ordinary words stay."""
    requests = _requests()
    assert len(requests) >= 150
    identifiers = leaked = kept = ordinary_words = 0
    leaks: list[str] = []
    for person, text, found, ordinary in requests:
        shown = redact(text, person.identity())
        left = _PLACEHOLDERS.sub(" ", shown)
        for value in set(found):
            inserted = found.count(value)
            identifiers += inserted
            # The same spelling in the ordinary words ("Hope" opening a sentence) is not a leak.
            leak = min(inserted, max(0, _count(value, left) - _count(value, ordinary)))
            leaked += leak
            if leak:
                leaks.append(f"{value!r} in {shown!r}")
        expected = Counter(_WORD.findall(ordinary))
        got = Counter(_WORD.findall(left))
        ordinary_words += sum(expected.values())
        kept += sum(min(n, got[word]) for word, n in expected.items())
    recall = 1 - leaked / identifiers
    retention = kept / ordinary_words
    print(f"recall {recall:.4f} of {identifiers}, retention {retention:.4f} of {ordinary_words}")
    assert recall >= 0.98, "\n".join(leaks[:20])
    assert retention >= 0.95


# Properties: any spelling of a profile name goes; text without names stays.

_APOSTROPHES = ("'", "\u2019", "\u2018", "\u02bc", "")
_HYPHENS = ("-", "--", " ", "", "\u2013", " - ")


# The names above that are also everyday words.
WORD_NAMES = {"hope", "may", "grace", "will", "rose", "grant", "faith", "summer", "joy", "park"}
WORD_NAMES |= {"max", "precious", "lee"}


@st.composite
def _spelt(draw: st.DrawFn) -> tuple[Person, str]:
    person = draw(st.sampled_from(PEOPLE))
    part = draw(st.sampled_from([person.first, person.last, f"{person.first} {person.last}"]))
    if draw(st.booleans()):
        part = _plain(part)
    part = part.replace("'", draw(st.sampled_from(_APOSTROPHES)))
    part = part.replace("-", draw(st.sampled_from(_HYPHENS)))
    part = part.replace(" ", draw(st.sampled_from((" ", "  ", "\t", " \u00a0"))))
    # A name made of words ("Hope", "May Grant") is a name where written as one; "ask hope
    # about it", "they may grant it" or "I HOPE" read as words.
    word = set(part.lower().split()) <= WORD_NAMES
    case = draw(
        st.sampled_from(("as is", "title") if word else ("as is", "lower", "upper", "title"))
    )
    part = {"as is": part, "lower": part.lower(), "upper": part.upper(), "title": part.title()}[
        case
    ]
    return person, part


@settings(max_examples=300, deadline=None)
@given(_spelt(), st.sampled_from(("{} here, thanks", "I'm {}.", "Thanks,\n{}", "ask {} about it")))
def test_any_spelling_of_a_profile_name_goes(spelt: tuple[Person, str], template: str) -> None:
    """Case, accents, apostrophes, hyphens and spacing do not let a profile name through."""
    person, name = spelt
    shown = redact(template.format(name), person.identity())
    letters = [w for w in _WORD.findall(_PLACEHOLDERS.sub(" ", shown)) if len(w) > 1]
    assert not set(letters) & set(_WORD.findall(name)), shown


# Everyday words, including some that are these people's names or short forms ("hope",
# "will", "bill", "may", "grace", "rose", "rob"): lower case, within a sentence, they are words.
_VOCABULARY = """
    the a we our team manager meeting review hope will bill may grace rose rob joy period
    talk help support week month plan work feel asked about with after before from into
    over would could should keep kept late early project deadline lead office remote
    coffee notes email policy leave time report share idea issue problem change pay
""".split()  # noqa: SIM905 (a word list reads best as words)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(PEOPLE),
    st.lists(st.sampled_from(_VOCABULARY), min_size=3, max_size=30),
)
def test_text_without_names_is_unchanged(person: Person, words: list[str]) -> None:
    """Ordinary words, also those that are a name elsewhere, stay as written."""
    text = "So " + " ".join(words) + " today."
    assert redact(text, person.identity()) == text
