"""Awareness surveys (SPEC 3): running one (`runs`) and results that cannot expose anyone
(`results`, pure)."""
