"""`allybot demo` plays the whole programme and exits 0."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError


def test_demo_prints_the_transcript_and_saves_the_chart(tmp_path: Path) -> None:
    """The demo runs every scene, names the saved chart, and keeps the anonymous asker hidden."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    transcript = result.stdout
    for scene in (
        "Finding out about the programme",
        "A named request",
        "An anonymous request",
        "Time passes",
    ):
        assert scene in transcript
    # People appear as Slack shows them, so a newcomer can follow who sees what.
    assert "@Priya Raman" in transcript and "@Ben Carter" in transcript
    assert "<@U" not in transcript and "<#C" not in transcript
    chart = tmp_path / "demo-output" / "leaderboard.png"
    assert str(chart) in transcript
    assert chart.read_bytes().startswith(b"\x89PNG")
    anonymous = transcript[
        transcript.index("An anonymous request") : transcript.index("Time passes")
    ]
    seen_by: dict[str, list[str]] = {}
    who = ""
    for line in anonymous.splitlines():
        if line.startswith("  ") and not line.startswith("    ") and " sees" in line:
            who = line.strip().split(" sees")[0].split(" privately")[0]
        elif line.startswith("    | ") and who:
            seen_by.setdefault(who, []).append(line)
    others = {w: lines for w, lines in seen_by.items() if not w.startswith("Priya")}
    assert {"#ally-volunteers (private)", "Vera", "#allies"} <= set(others)
    for lines in others.values():
        text = "\n".join(lines)
        assert "Priya" not in text and "Raman" not in text and "7700" not in text


@pytest.mark.rejects_payloads
def test_demo_fails_with_path_and_limit_when_a_payload_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scene whose payload Slack would refuse makes the demo exit non-zero, naming it."""
    import bot.devkit.demo
    from bot.devkit.sandbox import Sandbox

    def bad_scene(box: Sandbox, show: object, out: Path) -> None:
        header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
        # Swallowed, as a listener's error handler would: the demo must still fail.
        with contextlib.suppress(SlackApiError):
            box.client.chat_postMessage(channel="C0GENERAL", text="t", blocks=[header])

    monkeypatch.setattr(bot.devkit.demo, "SCENES", (bad_scene,))
    lines: list[str] = []
    assert bot.devkit.demo.run_demo(write=lines.append, output_dir=tmp_path) == 1
    assert "chat.postMessage: /blocks/0/text/text: header text must be at most 150" in "\n".join(
        lines
    )
