"""The AR team's web app: server-rendered pages over the same services and principal as the API.

``functions/web`` holds the handler and its routes (one module per screen); this package holds
what they share: the session (Cognito tokens in cookies, PKCE sign-in), CSRF tokens, security
headers, the static files' hashed URLs and the Jinja2 environment of ``templates/web``.
"""
