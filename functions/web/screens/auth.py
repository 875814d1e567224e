"""Signing in (the Cognito managed login, authorization code + PKCE), out, and back."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.observability import logger
from relance.services.users import authenticate_bearer
from relance.web import security, session
from screens.base import RENDER, check_csrf, form, html, redirect, signed_in

router = Router()


@router.get("/auth/login")
def login() -> Response[str]:
    query = router.current_event.query_string_parameters or {}
    target = security.local_path(query.get("next"))
    url, attempt = session.start_sign_in(session.secret_key(), target, query.get("login_hint"))
    answer = html("", 302, cookies=[attempt])
    answer.headers["Location"] = url
    return answer


@router.get("/auth/callback")
def callback() -> Response[str]:
    query = router.current_event.query_string_parameters or {}
    if query.get("error"):
        logger.info("sign-in refused by the managed login", error=query.get("error"))
        message = query.get("error_description") or "The sign-in was refused."
        return html(
            RENDER.page("signed_out.html", problem=message), 403, cookies=[session.expired(session.SIGN_IN_COOKIE)]
        )
    cookies = session.read_cookies(router.current_event.headers.get("cookie"))
    verifier, target = session.sign_in_attempt(
        session.secret_key(), cookies.get(session.SIGN_IN_COOKIE), query.get("state")
    )
    tokens = session.exchange_code(query.get("code") or "", verifier)
    if authenticate_bearer(tokens.id_token) is None:
        problem = "This account is not a member of an organization in Relance. Ask an administrator to invite you."
        return html(
            RENDER.page("signed_out.html", problem=problem), 403, cookies=[session.expired(session.SIGN_IN_COOKIE)]
        )
    return redirect(target, cookies=[*session.session_cookies(tokens), session.expired(session.SIGN_IN_COOKIE)])


@router.post("/auth/sign-out")
def sign_out() -> Response[str]:
    person = signed_in(router)
    check_csrf(router, person, form(router.current_event))
    refresh_token = session.read_cookies(router.current_event.headers.get("cookie")).get(session.REFRESH_COOKIE)
    if refresh_token:
        session.revoke(refresh_token)
    return redirect(session.logout_url() or session.signed_out_url(), cookies=session.signed_out_cookies())


@router.get("/auth/signed-out")
def signed_out() -> Response[str]:
    return html(RENDER.page("signed_out.html", problem=None), cookies=session.signed_out_cookies())
