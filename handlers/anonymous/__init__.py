"""The Slack surface of anonymous requests (SPEC 2.3): asking, the case, the relay, the purge.

`ids` and `inputs` hold the feature's public ids and what its listeners read from a payload;
`surface` posts and redraws the case card, the thread and the requester's messages;
`asking` is the preview and the draft, `cases` taking, finding an ally, revealing and closing
a case, `relay` the two-way messages, `relay_sync` keeping relayed copies in step;
`listeners` registers them all.
"""
