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
