"""`allybot demo`: the programme played in a simulated workspace, printed as a transcript."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bot.devkit.demo import anonymous, clock, forget, help, mentoring, named, surveys, yearend
from bot.devkit.demo.transcript import Transcript, Write
from bot.devkit.sandbox import Person, Sandbox

SCENES = (
    help.play,
    named.play,
    anonymous.play,
    clock.play,
    forget.play,
    yearend.play,
    surveys.play,
    mentoring.play,
)


def run_demo(write: Write = print, output_dir: Path = Path("demo-output")) -> int:
    """Play every scene against the fake Slack with SQLite in a temporary directory.

    Files worth keeping (the leaderboard chart) are written to `output_dir`.
    """
    logging.basicConfig(level=logging.WARNING)
    output_dir.mkdir(parents=True, exist_ok=True)
    out = output_dir.resolve()
    with (
        tempfile.TemporaryDirectory(prefix="allybot-demo-") as tmp,
        Sandbox(f"sqlite:///{Path(tmp) / 'demo.db'}") as box,
    ):
        names = {p.id: p.real_name.split()[0] for p in box.workspace.everyone}
        names.update(
            {
                box.workspace.allies_channel: "#allies",
                box.workspace.volunteers_channel: "#ally-volunteers (private)",
                box.workspace.announcements_channel: "#announcements",
                box.workspace.general_channel: "#general",
            }
        )
        people = {p.id: p.real_name for p in box.workspace.everyone}
        show = Transcript(box.fake, names, write, people)
        write("allybot demo: a simulated workspace, a fake Slack, SQLite in " + tmp)
        write("People: " + ", ".join(f"{p.real_name} ({role})" for p, role in _roles(box)))
        try:
            for play in SCENES:
                play(box, show, out)
                show.flush()
        finally:
            # Read even when a scene broke: a refusal is often why it broke.
            rejected = box.fake.rejected_payloads
            box.db.dispose()
    if rejected:
        write(f"\nDemo FAILED: real Slack would refuse {len(rejected)} payload(s):")
        for refusal in rejected:
            write(f"  {refusal}")
        return 1
    write("\nDemo finished.")
    return 0


def _roles(box: Sandbox) -> list[tuple[Person, str]]:
    ws = box.workspace
    return [
        (ws.admin, "admin"),
        (ws.requester, "employee"),
        (ws.colleague, "employee"),
        *[(p, "ally") for p in ws.allies],
        *[(p, "volunteer") for p in ws.volunteers],
    ]
