"""Redaction gaps (issue 8, part 7): the leaks a check on realistic requests found, class by class.

A first name that is also an ordinary word signed with a surname initial, two-letter display
names and initials, typographic apostrophes and possessives, any spelling of a profile name,
one-edit misspellings and common short forms of a first name. Ordinary words stay: removing
"I hope" or "a grace period" would itself give the name away.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.privacy import NAME, Identity, identity_from_user, redact


def _user(
    real_name: str, display_name: str, email: str, *, first: str = "", last: str = ""
) -> dict[str, Any]:
    """A users.info `user` object (first and last name only when given)."""
    profile: dict[str, Any] = {
        "real_name": real_name,
        "real_name_normalized": real_name,
        "display_name": display_name,
        "display_name_normalized": display_name,
        "email": email,
    }
    if first:
        profile["first_name"] = first
    if last:
        profile["last_name"] = last
    return {
        "id": "U0GAPS1234",
        "name": email.partition("@")[0],
        "real_name": real_name,
        "profile": profile,
    }


HOPE = identity_from_user(_user("Hope O'Neill", "hope", "hope.oneill@corp.com"))
BILL = identity_from_user(
    _user("William Nakamura", "Bill N", "wnakamura@corp.com", first="William", last="Nakamura")
)
KJ = identity_from_user(_user("Kavya Joshi", "KJ", "kavya.joshi@corp.com"))
SIOBHAN = identity_from_user(_user("Siobhán O'Brien", "Siobhan", "sobrien@corp.com"))
MJ = identity_from_user(_user("Mary-Jane Watson-Kelly", "MJ", "mj.wk@corp.com"))
PRIYA = identity_from_user(_user("Priya Raman", "Sunflower", "priya.raman@example.com"))
ROBERT = identity_from_user(_user("Robert Kowalski", "Robert K", "rkowalski@corp.com"))
KATE = identity_from_user(_user("Katherine Dubois", "kdubois", "kdubois@corp.com"))
MAY = identity_from_user(_user("May Grant", "may.g", "may.grant@corp.com"))
ZOE = identity_from_user(_user("Zoë Müller", "zoe", "zoe.mueller@corp.com"))
JOSE = identity_from_user(_user("José Ángel Peña", "Pepe", "jose.pena@corp.com"))
PR = identity_from_user(_user("Paolo Rinaldi", "paolo", "paolo.rinaldi@corp.com"))


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (HOPE, "Thanks, Hope O.", f"Thanks, {NAME}."),
        (HOPE, "I hope you can help. Thanks,\nHope O", f"I hope you can help. Thanks,\n{NAME}"),
        (HOPE, "Many thanks\nHope O.\n", f"Many thanks\n{NAME}.\n"),
        (HOPE, "Hope O. here, I hope it is ok", f"{NAME}. here, I hope it is ok"),
        (BILL, "— Bill N.", f"— {NAME}."),
        (BILL, "Bill N. here", f"{NAME}. here"),
        (BILL, "Cheers, Bill N", f"Cheers, {NAME}"),
        (BILL, "best,\nBill", f"best,\n{NAME}"),
        (MAY, "Cheers,\nMay", f"Cheers,\n{NAME}"),
        (MAY, "Thanks! May G.", f"Thanks! {NAME}."),
    ],
)
def test_an_ordinary_word_first_name_in_a_sign_off_is_redacted(
    identity: Identity, text: str, shown: str
) -> None:
    """A first name that is also a word goes where it signs the text, with the surname initial."""
    assert redact(text, identity) == shown


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (HOPE, "I hope so. Hope is all I have. We hope O'Hare is open."),
        (BILL, "I will pay the bill. Bills are due. Will I get a bill?"),
        (MAY, "May I ask? It may be in May. May we talk?"),
        (BILL, "Thanks, I will. Best, as always."),
    ],
)
def test_ordinary_words_that_are_the_first_name_stay_elsewhere(
    identity: Identity, text: str
) -> None:
    """ "I hope", "a bill", "May I" are words, not the requester."""
    assert redact(text, identity) == text


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (KJ, "KJ here", f"{NAME} here"),
        (KJ, "kj here", f"{NAME} here"),
        (KJ, "K.J. here", f"{NAME} here"),
        (KJ, "thanks, K. J.", f"thanks, {NAME}"),
        (KJ, "thanks,\nK J", f"thanks,\n{NAME}"),
        (MJ, "MJ here", f"{NAME} here"),
        (MJ, "Thanks, MJ", f"Thanks, {NAME}"),
        (MJ, "it's mj", f"it's {NAME}"),
        (MJ, "- M.J.W.K.", f"- {NAME}"),
        (PR, "Thanks,\nPR", f"Thanks,\n{NAME}"),
        (PR, "P.R. here", f"{NAME} here"),
    ],
)
def test_two_letter_display_names_and_initials_are_redacted(
    identity: Identity, text: str, shown: str
) -> None:
    """Initials standing alone and two-letter display names go."""
    assert redact(text, identity) == shown


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (KJ, "I am OK, it is fine. Is it on? Go to HR, I'm in the UK."),
        (MJ, "We use mjml and a 5 kJ figure? No: it is OK."),
        (PR, "My PR was rejected and PR (public relations) was copied."),
    ],
)
def test_ordinary_two_letter_words_and_acronyms_stay(identity: Identity, text: str) -> None:
    """ "I am", "OK", "it", and initials that are acronyms used as such, stay."""
    assert redact(text, identity) == text


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (SIOBHAN, "O\u2019Brien here", f"{NAME} here"),
        (SIOBHAN, "O\u2019Brien\u2019s manager", f"{NAME}\u2019s manager"),
        (SIOBHAN, "O'Brien's manager", f"{NAME}'s manager"),
        (SIOBHAN, "O\u02bcBrien", NAME),
        (SIOBHAN, "OBrien", NAME),
        (SIOBHAN, "O Brien", NAME),
        (SIOBHAN, "o\u2018brien", NAME),
        (HOPE, "Hope O\u2019Neill", NAME),
        (HOPE, "O\u2019Neill\u2019s", f"{NAME}\u2019s"),
        (PRIYA, "Priya\u2019s manager", f"{NAME}\u2019s manager"),
        (PRIYA, "Raman\u2019s", f"{NAME}\u2019s"),
    ],
)
def test_typographic_apostrophes_and_possessives(identity: Identity, text: str, shown: str) -> None:
    """Typographic apostrophes are apostrophes, in the name and before its possessive."""
    assert redact(text, identity) == shown


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (MJ, "Mary-Jane"),
        (MJ, "MaryJane"),
        (MJ, "Mary Jane"),
        (MJ, "Mary--Jane"),
        (MJ, "mary \u2013 jane"),
        (MJ, "Watson-Kelly"),
        (MJ, "WatsonKelly"),
        (MJ, "Watson Kelly"),
        (MJ, "watson--kelly"),
        (MJ, "Mary-Jane Watson-Kelly"),
        (ZOE, "ZOË"),
        (ZOE, "zoe"),
        (ZOE, "Zoe\u0308"),
        (JOSE, "Jose Angel"),
        (JOSE, "JoséÁngel"),
        (JOSE, "Pena"),
        (JOSE, "PEÑA"),
        (JOSE, "jose.pena"),
        (PRIYA, "priya   raman"),
        (PRIYA, "Priya\tRaman"),
        (PRIYA, "Priya_Raman"),
    ],
)
def test_any_spelling_of_a_profile_name(identity: Identity, text: str) -> None:
    """Case, accents, hyphens dropped or doubled, spacing: the name goes, whole."""
    assert redact(f"hi, {text} here", identity) == f"hi, {NAME} here"


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (PRIYA, "Pryia"),
        (PRIYA, "Priyaa"),
        (PRIYA, "Prya"),
        (PRIYA, "Ramna"),
        (PRIYA, "Rahman"),
        (PRIYA, "sunflwer"),
        (ROBERT, "Kowalsky"),
        (ROBERT, "Kowalksi"),
        (ROBERT, "Rbert"),
        (SIOBHAN, "Siobahn"),
        (KJ, "Kavja"),
        (KJ, "Joshy"),
    ],
)
def test_misspelt_names_one_edit_away(identity: Identity, text: str) -> None:
    """A name of 5 letters or more, one letter wrong, missing, extra or swapped, still goes."""
    assert redact(f"hi, {text} here", identity) == f"hi, {NAME} here"


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (PRIYA, "We had ramen, a Roman holiday and a pretty sunflowers field."),
        (KJ, "Josh and Joshua came; I was joshing."),
        (ROBERT, "Roberta is someone else."),
        (SIOBHAN, "He was brief."),
        (MJ, "Kelly's jelly in my belly"),
    ],
)
def test_ordinary_words_one_edit_away_stay(identity: Identity, text: str) -> None:
    """Ordinary words and other common names one edit from a name are not misspellings."""
    if identity is MJ:
        # "Kelly" is her surname; the words around it are ordinary.
        assert redact(text, identity) == f"{NAME}'s jelly in my belly"
    else:
        assert redact(text, identity) == text


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (ROBERT, "Rob here", f"{NAME} here"),
        (ROBERT, "Bobby here", f"{NAME} here"),
        (ROBERT, "Robbie", NAME),
        (ROBERT, "Thanks,\nBob", f"Thanks,\n{NAME}"),
        (ROBERT, "Bob K.", f"{NAME}."),
        (KATE, "Kate here", f"{NAME} here"),
        (KATE, "Katie", NAME),
        (KATE, "Kathy D.", f"{NAME}."),
        (BILL, "Will N.", f"{NAME}."),
        (BILL, "Liam here", f"{NAME} here"),
        (BILL, "Billy", NAME),
        (BILL, "it's Will", f"it's {NAME}"),
    ],
)
def test_short_forms_of_the_first_name(identity: Identity, text: str, shown: str) -> None:
    """Common short forms of a first name go; those that are words only where used as a name."""
    assert redact(text, identity) == shown


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (ROBERT, "They rob us of time; a bob of the head."),
        (BILL, "I will pay the bill, will you?"),
        (KATE, "Katherine Johnson inspired me."),
    ],
)
def test_short_forms_that_are_words_stay_as_words(identity: Identity, text: str) -> None:
    """ "rob", "will", "bill" as words stay."""
    shown = redact(text, identity)
    if identity is KATE:
        # Her own first name, whoever else bears it, goes.
        assert shown == f"{NAME} Johnson inspired me."
    else:
        assert shown == text


GRANT = identity_from_user(_user("May Grant", "may.g", "may.grant@corp.com"))
GRACE = identity_from_user(_user("Grace Okafor", "Grace O", "gokafor@corp.com"))
SUMMER = identity_from_user(_user("Summer Lee", "summer", "slee@corp.com"))
TOM = identity_from_user(_user("Tom Lane", "tl", "tlane@corp.com"))


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (GRACE, "Grace (G.O.)", f"{NAME} ({NAME})"),
        (GRACE, "Grace O. here", f"{NAME}. here"),
        (GRANT, "ask May about it", f"ask {NAME} about it"),
        (GRANT, "from May's side", f"from {NAME}'s side"),
        (GRANT, "Grant is my surname.", f"{NAME} is my surname."),
        (GRANT, "Garnt here", f"{NAME} here"),
        (SUMMER, "hey team, summer here", f"hey team, {NAME} here"),
        (SUMMER, "my lead (aka summer)", f"my lead (aka {NAME})"),
        (SUMMER, "SL (aka Summer)", f"{NAME} (aka {NAME})"),
        (TOM, "ty, TL", f"ty, {NAME}"),
        (TOM, "T.L. here", f"{NAME} here"),
    ],
)
def test_names_read_in_context(identity: Identity, text: str, shown: str) -> None:
    """Word-like names go where they sign, introduce, or stand next to another name."""
    assert redact(text, identity) == shown


@pytest.mark.parametrize(
    ("identity", "text"),
    [
        (GRANT, "They may grant it in May. It's May already. Since May, grants are late."),
        (GRANT, "That is a grand plan."),
        (GRACE, "A grace period, and I go to HR."),
        (SUMMER, "This summer I will ask my lead."),
        (TOM, "My TL said to DM her. The TL is away."),
    ],
)
def test_word_like_names_stay_as_words(identity: Identity, text: str) -> None:
    """The same words and acronyms, used as words, stay."""
    assert redact(text, identity) == text


@pytest.mark.parametrize(
    ("identity", "text", "shown"),
    [
        (HOPE, "thanks,\nhope o.", f"thanks,\n{NAME}."),
        (HOPE, "Can someone help? \u2014 Hope", f"Can someone help? \u2014 {NAME}"),
        (PR, "Can someone help? -- P.R.", f"Can someone help? -- {NAME}"),
        (PRIYA, "it's P R I Y A", f"it's {NAME}"),
        (PRIYA, "r.a.m.a.n here", f"{NAME} here"),
    ],
)
def test_sign_offs_and_spelt_out_names(identity: Identity, text: str, shown: str) -> None:
    """A dash sign-off, a lower-case initial, a name spelt out letter by letter."""
    assert redact(text, identity) == shown
