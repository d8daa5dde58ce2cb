"""The programme's rules: plain Python with no Slack client and no templates."""
