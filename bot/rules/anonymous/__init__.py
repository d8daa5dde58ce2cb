"""Anonymous cases brokered by volunteers (SPEC 2.3): the rules, over a database session.

`drafts` holds a request between its preview and its confirmation; `cases` a case's life
(opened, taken, an ask for an ally, revealed, closed, purged); `relays` the messages relayed
between the requester and the volunteer, known by keyed hashes only.
"""
