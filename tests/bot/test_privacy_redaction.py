"""Redaction, table by table: what identifies an anonymous requester goes, ordinary words stay.

The reviewer's user: real name "Zoë Müller", display name "Will", e-mail zoe.mueller@corp.com.
Names are matched accent-folded (Zoe, Muller, Mueller); name parts that are also common words
("Will", "May", "An") only where they are written as a name, so that "I will call" is kept and
the placeholder does not itself give the name away.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.privacy import EMAIL, LINK, MENTION, NAME, PHONE, Identity, identity_from_user, redact


def _user(user_id: str, real_name: str, display_name: str, email: str) -> dict[str, Any]:
    """A users.info `user` object as Slack (and bot/fakeslack) returns it."""
    return {
        "id": user_id,
        "name": display_name.lower(),
        "real_name": real_name,
        "profile": {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "email": email,
        },
    }


ZOE = identity_from_user(_user("U012AB3CD4E", "Zoë Müller", "Will", "zoe.mueller@corp.com"))
GRACE = identity_from_user(_user("W0GRACE123", "Grace May Li", "Bill", "gml@corp.com"))
AN = identity_from_user(_user("U0AN4567", "Đỗ An", "An Do", "an.do@corp.com"))
JOSE = identity_from_user(_user("U0JOSE999", "José García López", "Pepe", "jgl@corp.com"))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # The reviewer's reply, exactly.
        (
            "Zoe Muller here, I will call you; zoe.mueller @ corp.com",
            f"{NAME} here, I will call you; {EMAIL}",
        ),
        # 1. Accents and German transliterations, both ways, spans mapped back.
        ("Zoë Müller", NAME),
        ("ZOE MUELLER", NAME),
        ("Zoe Mueller", NAME),
        ("Muller", NAME),
        ("Mueller's team", f"{NAME}'s team"),
        ("Hallo Müller!", f"Hallo {NAME}!"),
        ("Grüße von zoë.", f"Grüße von {NAME}."),
        ("Mu\u0308\u0331ller here", f"{NAME} here"),  # a mark NFKC cannot compose
        ("Zoe\u0331 here", f"{NAME} here"),
        ("Zoe  \t Muller", NAME),
        # 2. The e-mail's local part and its pieces; e-mails written around filters.
        ("zoe.mueller", NAME),
        ("find me as zoe_mueller", f"find me as {NAME}"),
        ("zoe.mueller @ corp.com", EMAIL),
        ("zoe.mueller@ corp.com", EMAIL),
        ("zoe dot mueller at corp dot com", EMAIL),
        ("zoe.mueller at corp dot com", EMAIL),
        ("reach me at zoe.mueller at gmail dot com", f"reach me at {EMAIL}"),
        ("zoe.mueller (at) corp (dot) com", EMAIL),
        ("zoe.mueller [at] corp [dot] com", EMAIL),
        ("write <mailto:zoe.mueller@corp.com|zoe.mueller@corp.com>", f"write {EMAIL}"),
        ("write <mailto:zoe.mueller@corp.com|me>", f"write {EMAIL}"),
        # 3. A common-word name part, written as a name.
        ("Will here.", f"{NAME} here."),
        ("Will here, thanks", f"{NAME} here, thanks"),
        ("It's Will again", f"It's {NAME} again"),
        ("I'm will", f"I'm {NAME}"),
        ("my name is WILL", f"my name is {NAME}"),
        ("please ask Will about it", f"please ask {NAME} about it"),
        ("Thanks,\nWill", f"Thanks,\n{NAME}"),
        ("thanks, will", f"thanks, {NAME}"),
        ("- Will", f"- {NAME}"),
        ("Will", NAME),
        # 4. Extensions, the requester's own Slack ID, bare domains.
        ("my id is U012AB3CD4E", f"my id is {MENTION}"),
        ("my id is u012ab3cd4e", f"my id is {MENTION}"),
        # 5. First initial and surname; first name and surname run together.
        ("zmuller", NAME),
        ("zmueller", NAME),
        ("z.muller", NAME),
        ("z.mueller", NAME),
        ("z_mueller", NAME),
        ("signed Z. Müller", f"signed {NAME}"),
        ("zoemueller", NAME),
    ],
)
def test_zoe_is_redacted(text: str, shown: str) -> None:
    """Every way the reviewer's user wrote (or might write) who she is is removed."""
    assert redact(text, ZOE) == shown


@pytest.mark.parametrize(
    "text",
    [
        "I will call you",
        "Will you call me?",
        "Will it be OK?",
        "I WILL CALL YOU",
        "will do, thanks",
        "Thanks, will do.",
        "goodwill and free will",
        "Willing to help, willow",
        "I'm willing to talk.",
        "zoetrope and mullerian",
    ],
)
def test_zoe_ordinary_words_are_kept(text: str) -> None:
    """ "will" as a word is not her display name: removing it would give the name away."""
    assert redact(text, ZOE) == text


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (GRACE, "I'm Grace", f"I'm {NAME}"),
        (GRACE, "ask Li or Bill", f"ask {NAME} or {NAME}"),
        (GRACE, "May here, thanks", f"{NAME} here, thanks"),
        (GRACE, "May, can we talk?", f"{NAME}, can we talk?"),
        (GRACE, "grace may li", NAME),
        (GRACE, "Grace May Li", NAME),
        (GRACE, "Bill's manager", f"{NAME}'s manager"),
        (GRACE, "I met May Smith", f"I met {NAME} Smith"),
        (GRACE, "I'm May", f"I'm {NAME}"),
        (GRACE, "It's May here", f"It's {NAME} here"),
        (AN, "I'm An Do", f"I'm {NAME}"),
        (AN, "Đỗ An here", f"{NAME} here"),
        (AN, "Do An here", f"{NAME} here"),
        (AN, "write to an.do", f"write to {NAME}"),
        (AN, "ask An", f"ask {NAME}"),
        (JOSE, "José García", NAME),
        (JOSE, "jose garcia lopez", NAME),
        (JOSE, "Garcia", NAME),
        (JOSE, "jgarcia", NAME),
        (JOSE, "j.lopez", NAME),
        (JOSE, "see josegarcia.dev", f"see {LINK}"),
        (JOSE, "I'm josegarcia on GitHub", f"I'm {NAME} on GitHub"),
    ],
)
def test_names_of_others_are_redacted(identity: Identity, text: str, shown: str) -> None:
    """Short and common-word parts are removed when written as a name; distinctive ones always."""
    assert redact(text, identity) == shown


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (GRACE, "May I ask for a grace period? I will bill you later."),
        (GRACE, "The review is in May, or early May."),
        (GRACE, "It was on 5 May and May 12."),
        (GRACE, "Bill me later. May we talk?"),
        (GRACE, "Grace period is over."),
        (GRACE, "It's May already. From May to June I'm away."),
        (AN, "An issue came up. Do you know? I do an audit."),
        (AN, "I'm an engineer and I do not know."),
        (AN, "Do I need to? An hour or so."),
        (AN, "Do HR know?"),
        (AN, "random words: do, an, and dorian."),
    ],
)
def test_common_words_of_others_are_kept(identity: Identity, text: str) -> None:
    """Common words that are also name parts stay when they are used as words."""
    assert redact(text, identity) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Extensions.
        ("ext 12345", PHONE),
        ("ext. 4567", PHONE),
        ("extension 123456", PHONE),
        ("Ext: 4567", PHONE),
        ("call x4567", f"call {PHONE}"),
        ("x.4567 please", f"{PHONE} please"),
        ("call 020 7946 0958 ext 4567", f"call {PHONE}"),
        # Anyone's Slack user ID typed as text.
        ("ping U0123ABCDEF", f"ping {MENTION}"),
        ("ping W012AB3CD4", f"ping {MENTION}"),
        # Bare domains.
        ("see josegarcia.dev", f"see {LINK}"),
        ("my site: josegarcia.dev.", f"my site: {LINK}."),
        ("see www.example.org", f"see {LINK}"),
        ("see example.co.uk today", f"see {LINK} today"),
        ("see Example.ORG", f"see {LINK}"),
        # International phone numbers.
        ("(+44) 7700 900123", PHONE),
        ("+44 7700 · 900123", PHONE),
        ("+44 7700 — 900 123", PHONE),
        ("+44 7700\u2013900123", PHONE),
        ("+ 44 7700 900123", PHONE),
        ("+44 7700_900123", PHONE),
        ("+49 (0) 30 1234567", PHONE),
        ("+49 30 12345678", PHONE),
        ("+91 98765 43210", PHONE),
        ("+81-3-1234-5678", PHONE),
        ("+55 11 91234-5678", PHONE),
        ("+7 495 123-45-67", PHONE),
        ("+353 1 234 5678", PHONE),
        ("+1.202.555.0147", PHONE),
        ("0049 30 12345678", PHONE),
        ("+33 (0)6 12 34 56 78", PHONE),
        ("+86 138 0013 8000", PHONE),
    ],
)
def test_contact_details_of_anyone_are_redacted(text: str, shown: str) -> None:
    """Extensions, Slack IDs, bare domains and phone numbers go, whoever they belong to."""
    assert redact(text, Identity()) == shown


@pytest.mark.parametrize(
    "text",
    [
        "next 1234 steps",
        "a 1920x1080 screen",
        "UNDERSTAND WONDERFUL",
        "node.js and report.pdf and notes.txt",
        "e.g. this, i.e. that, at 10.30 a.m.",
        "version 3.11 in 2024",
        "a contract extension 2025 review",
        "look at the plan, at 5",
        "I work at home",
        "meet me @ 12.30",
        "ask Dr.Smith or St.Louis",
        "our 2019-2021 plan, 2019 \u2013 2021",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    """Nothing identifying: shown as written."""
    assert redact(text, Identity()) == text


def test_identity_shows_no_name_when_printed() -> None:
    """An identity's repr (in a log line or a failed assertion) names nobody."""
    shown = repr(ZOE) + str(ZOE)
    for piece in ("Zo", "Mü", "Mue", "Will", "corp", "U012"):
        assert piece not in shown


# Long runs anyone can type in a request (3000 characters, its longest): redaction runs before
# the modal's ack, so every pattern reads them in linear time (scripts/bench_redact.py times
# them, on purpose: no test here is timed). These check that they are still read right.


def _long(unit: str) -> str:
    """unit repeated to 3000 characters, the longest request."""
    return (unit * (3000 // len(unit) + 1))[:3000]


@pytest.mark.parametrize(
    "unit",
    [
        *("a", "a_", "ab-", "a-", "a.", "a.b-", "a1.", "a.-_", ".", "-", "_", "U1", "UA"),
        *("@", "a@", "a@b.", "a.b@", "a @ ", "x@y.z ", "a.b/", "a:", "a.b:1"),
        *("a at ", "a dot ", "a at b dot ", "a (at) ", "a (dot) ", "a [at] b [dot] "),
        *(" ", " \t\n", "<", "<a", "<@U", "will ", "I'm ", "May ", "Mr.", "ext "),
        *("+1 ", "1a", "12345, ", "\U0001f600 a", "\u00e9", "\u00fc"),
    ],
)
def test_long_runs_of_nothing_identifying_are_kept(unit: str) -> None:
    """Runs of letters, dots, dashes, '@', "at"/"dot" words, spaces or emoji: nothing to remove."""
    text = _long(unit)
    assert redact(text, ZOE) == text


@pytest.mark.parametrize(
    ("unit", "shown"),
    [
        ("1", PHONE),
        ("1-", f"{PHONE}-"),
        ("1.", f"{PHONE}."),
        ("1 ", f"{PHONE} "),
        ("1/", f"{PHONE}/"),
        ("12 (", f"{PHONE} ("),
        ("1 -- ", f"{PHONE} -- "),  # a run of digits too long for one number goes whole
        ("ab.", f"{LINK}."),
        ("www.", f"{LINK}."),
        ("http://", LINK),
        ("mailto:", LINK),
        ("@a.", MENTION),
        ("Will ", f"{NAME} "),
        ("zoe.mueller.", f"{LINK}."),
    ],
)
def test_long_runs_that_look_like_contact_details_go_whole(unit: str, shown: str) -> None:
    """A long run of digits, of host names, of handles or of her name goes as one placeholder."""
    assert redact(_long(unit), ZOE) == shown


def test_her_name_and_address_go_from_a_long_text_of_them() -> None:
    """Every repetition goes, and what is after a long run of anything is still read."""
    assert redact("Zoë Müller, " * 250, ZOE) == f"{NAME}, " * 250
    assert redact("Thanks, Will\n" * 230, ZOE) == f"Thanks, {NAME}\n" * 230
    tail = " write boss@corp.com, zoe dot mueller at corp dot com or +44 7700 900123"
    for unit in ("a_", "ab-", "a.", "a@", "a dot ", "1-", "\u00e9"):
        shown = redact(_long(unit) + tail, ZOE)
        assert shown.endswith(f" write {EMAIL}, {EMAIL} or {PHONE}"), unit


@pytest.mark.parametrize(
    ("head", "tail", "shown"),
    [
        ("a", "@b.com", EMAIL),
        ("a", "at b dot com", EMAIL),
        ("a.b", "(at) b.com", EMAIL),
        ("a", "(dot) b at c.com", EMAIL),
        ("ext", "4567", PHONE),
        ("ext", "a", None),
    ],
)
def test_a_long_run_of_spaces_inside_an_address(head: str, tail: str, shown: str | None) -> None:
    """Spaces around "@", "at", "dot" or after "ext" are read however many there are."""
    text = head + " " * (3000 - len(head) - len(tail)) + tail
    assert redact(text, Identity()) == (shown or text)


@pytest.mark.parametrize(
    "address",
    [
        "x" * 200 + "@corp.com",
        "a.b.c.d.e.f.g.h.i@corp.com",
        "me@a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.com",
        "me@" + "sub." * 300 + "corp.com",
    ],
)
def test_long_addresses_go_whole(address: str) -> None:
    """Long words, many dots before the "@" (up to 9 words) and long domains are one address."""
    assert redact(f"write {address} now", Identity()) == f"write {EMAIL} now"


def test_addresses_next_to_each_other_both_go() -> None:
    """An address's search does not start inside the one just found."""
    assert redact("a@b.com+c@d.com and x.y@z.org", Identity()) == f"{EMAIL} and {EMAIL}"


def test_a_text_of_many_numbers_loses_no_phone_number() -> None:
    """Past 8 different numbers the matcher is not asked; then numbers that are not dates go."""
    dates = ", ".join(f"2024-05-{day:02d}" for day in range(1, 29))
    amounts = ", ".join(str(n) for n in range(20000, 20030))
    for number in ("14050", "+44 7700 900123", "020 7946 0958", "(555) 123-4567"):
        shown = redact(f"{dates}, {amounts}, call {number} now", Identity())
        assert shown.startswith(f"{dates}, ") and shown.endswith(f", call {PHONE} now")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("see x_https://example.org/me", f"see x_{LINK}"),
        ("on 2024-05-01https://example.org/me", f"on {LINK}"),
        (_long("a.")[:2900] + "://example.org/me", LINK),
        ("ab2024-05-01May.+442024-05-0123will://example.org/me", LINK),
    ],
)
def test_links_glued_to_other_text_go_whole(text: str, shown: str) -> None:
    """A scheme is read from the start of the run of scheme characters, however long."""
    assert redact(text, Identity()) == shown


@pytest.mark.parametrize(
    "text",
    [
        "call 14050 now",  # five digits, valid in the Netherlands
        "call 020 7946 0958, ext 55 now",
        "call +44 7700 900123 #12 now",
        "call 07700 900123 ext. 12 now",
    ],
)
def test_short_numbers_and_extensions_go(text: str) -> None:
    """What only the phonenumbers matcher finds, and a number's extension, still go."""
    assert redact(text, Identity()) == f"call {PHONE} now"
