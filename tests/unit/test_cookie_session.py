"""The session is read from its cookie when there is one, and starts empty without; an
empty session is saved as Flask saves it (``Vary`` when read, the cookie deleted when
emptied)."""

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

    @app.post("/logout")
    def logout() -> str:
        session.clear()
        return "bye"

    @app.get("/static-answer")
    def static_answer() -> str:
        return "same for everyone"

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


def test_an_answer_that_read_the_session_varies_on_the_cookie() -> None:
    client = make_app().test_client()
    read = client.get("/who")
    untouched = client.get("/static-answer")
    assert read.headers.get("Vary") == "Cookie" and "Set-Cookie" not in read.headers
    assert "Vary" not in untouched.headers and "Set-Cookie" not in untouched.headers


def test_emptying_the_session_deletes_its_cookie() -> None:
    client = make_app().test_client()
    client.post("/login")
    response = client.post("/logout")
    assert "orchard_session=;" in response.headers["Set-Cookie"]
    assert client.get_cookie("orchard_session") is None
    assert client.get("/who").get_data(as_text=True) == "nobody"
