"""Business-unit points (SPEC 2.5): `ledger` (what earns points, once), `adjustments` (admins'
corrections) and `leaderboard` (standings and the scheduled post)."""
