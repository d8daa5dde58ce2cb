"""Feedback after a match: prompts, reminder, outcome (SPEC 2.4.1, 2.4.2).

`ALLYBOT_FEEDBACK_AFTER` after a match, the requester and the ally (and, for an anonymous
case, the volunteer who chose the ally) are asked whether it worked. One reminder follows
halfway between the prompt and the close; `ALLYBOT_FEEDBACK_CLOSE_AFTER` after the prompt,
a match whose requester has not answered closes as "no feedback". The requester's answer
decides the outcome; "worked" earns the ally's BU points (bot.rules.points).

Each person's feedback is one row with a random token: the token is the only value on the
buttons, the row says who may answer, and the answer is recorded with a conditional UPDATE,
so a second click, a retry or a race changes nothing. An anonymous requester's comment is
stored only redacted with their names, as their request was (bot.privacy.redact). Comments
are shown to nobody in Slack; forget-me and the case purge delete them.

`prompts` schedules the prompts, the reminder and the close and keeps each person's row;
`answers` records a click and decides the outcome; `comments` takes the optional comment.
"""
