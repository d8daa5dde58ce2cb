"""Anonymous cases brokered by volunteers (SPEC 2.3): the rules, over a database session.

`drafts` holds a request between its preview and its confirmation; `cases` (a package, its
`__init__` the public face) a case's life (opened, taken, an ask for an ally, revealed, closed,
handed back, purged); `relays` the messages relayed between the requester and the volunteer,
known by keyed hashes only.
"""
