"""Email: rendering templates (Jinja2 sandbox) and sending through SES."""
