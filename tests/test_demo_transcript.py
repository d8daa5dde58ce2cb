"""The demo transcript shows people, channels and links as Slack shows them."""

from __future__ import annotations

from bot.devkit.demo.transcript import Transcript, slack_text
from bot.devkit.sandbox import Sandbox

PEOPLE = {"U0ASKER": "Priya Raman", "U0ALLY2": "Ben Carter"}
CHANNELS = {"C0ALLIES": "allies"}


def test_mentions_show_real_names() -> None:
    """<@U…> and <@U…|handle> show as @Real Name from the workspace's people."""
    text = "<@U0ASKER> meets <@U0ALLY2|ben>; <@U0NOBODY|someone> and <@U0GONE> are unknown"
    assert slack_text(text, PEOPLE.get, CHANNELS.get) == (
        "@Priya Raman meets @Ben Carter; @someone and @U0GONE are unknown"
    )


def test_channels_broadcasts_and_links_show_as_slack_shows_them() -> None:
    """#channel, @here, a link's label with its address, and escaped characters decoded."""
    text = (
        "Ask in <#C0ALLIES> or <#C0OTHER|other>. <!here> <!channel> <!subteam^S01|@allies-team> "
        "Read <https://example.com/h?a=1&amp;b=2|the handbook> or "
        "<mailto:a@example.com|a@example.com> "
        "or <https://example.com>. 5 &lt; 6 &amp;&amp; 7 &gt; 2, <!date^1700000000^{date}|14 Nov>"
    )
    assert slack_text(text, PEOPLE.get, CHANNELS.get) == (
        "Ask in #allies or #other. @here @channel @allies-team "
        "Read the handbook (https://example.com/h?a=1&b=2) or a@example.com "
        "or https://example.com. 5 < 6 && 7 > 2, 14 Nov"
    )


def test_escaped_text_stays_text() -> None:
    """Text a person typed, escaped by the app, is shown as typed and never becomes a mention."""
    assert slack_text("&lt;@U0ASKER&gt; &amp;lt;", PEOPLE.get, CHANNELS.get) == "<@U0ASKER> &lt;"


def test_the_transcript_names_people_in_messages(sqlite_sandbox: Sandbox) -> None:
    """A message mentioning people is printed with their names, never a raw <@U…> mention."""
    box = sqlite_sandbox
    ws = box.workspace
    people = {p.id: p.real_name for p in ws.everyone}
    lines: list[str] = []
    show = Transcript(box.fake, {ws.announcements_channel: "#announcements"}, lines.append, people)
    box.fake.reset_calls()
    text = f"<@{ws.requester.id}> is paired with <@{ws.allies[1].id}> in <#{ws.allies_channel}>"
    box.client.chat_postMessage(
        channel=ws.announcements_channel,
        text=text,
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    )
    show.flush()
    printed = "\n".join(lines)
    assert "@Priya Raman is paired with @Ben Carter in #allies" in printed
    assert "<@U" not in printed and "<#C" not in printed
