"""The Slack surface of allyship requests (SPEC 2.1, 2.2): modal, card, offers, choice, withdrawal.

`ids` holds the feature's public ids; `surface` posts and redraws what a request shows (card,
offers DM, introduction, escalation); `followups` runs what must happen once after a match or
a withdrawal; `listeners` parses each Slack request and calls the rules in bot.rules.requests.
"""
