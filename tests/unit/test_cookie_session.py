"""The session is read from its cookie when there is one, and starts empty without."""

from __future__ import annotations

from flask import Flask, session

from entrypoints.http.cookie_session import CookieSessions


def make_app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 32, SESSION_COOKIE_NAME="orchard_session")
    app.session_interface = CookieSessions()

    @app.post("/login")
    def login() -> str:
        session["token"] = "t-1"
        return "ok"

    @app.get("/who")
    def who() -> str:
        return session.get("token", "nobody")

    return app


def test_a_signed_cookie_still_opens_the_session() -> None:
    client = make_app().test_client()
    client.post("/login")
    assert client.get_cookie("orchard_session") is not None
    assert client.get("/who").get_data(as_text=True) == "t-1"


def test_without_the_cookie_the_session_is_empty_and_sets_nothing() -> None:
    client = make_app().test_client()
    response = client.get("/who", headers={"Cookie": "other=1"})
    assert response.get_data(as_text=True) == "nobody"
    assert "Set-Cookie" not in response.headers


def test_a_forged_cookie_opens_an_empty_session() -> None:
    client = make_app().test_client()
    client.set_cookie("orchard_session", "not-signed")
    assert client.get("/who").get_data(as_text=True) == "nobody"
