//! Sign-in, sessions, CSRF and API tokens.

use crate::helpers::{Auth, PASSWORD, spawn_app};
use chrono::Duration;
use reqwest::Method;
use reqwest::header::SET_COOKIE;
use serde_json::json;

fn walk_in() -> serde_json::Value {
    json!({
        "channel": "walk_in",
        "title": "机场大巴末班车太早",
        "content": "晚上十点后落地的航班没有大巴可坐",
        "petitioner": {"name": "刘女士", "phone": "13900001111"},
    })
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_returns_the_csrf_token() {
    let app = spawn_app().await;
    let r = app.try_login("clerk", PASSWORD).await;
    let body = r.expect(200);
    assert!(body["csrf_token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(body["user"]["display_name"], "李登记");
    assert_eq!(body["user"]["grants"][0]["role"], "clerk");
    let cookie = r
        .headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("Set-Cookie");
    assert!(cookie.starts_with("xinfang_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    // Not behind HTTPS in this configuration, so not Secure.
    assert!(!cookie.contains("Secure"), "{cookie}");

    let s = app.login("clerk").await;
    let me = app.get_as(&s, "/api/v1/auth/me").await;
    assert_eq!(me.expect(200)["display_name"], "李登记");
}

#[tokio::test]
async fn secure_cookies_are_marked_secure() {
    let app = crate::helpers::spawn_app_with(xinfang_server::Config {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let r = app.try_login("clerk", PASSWORD).await;
    r.expect(200);
    let cookie = r
        .headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn cookie_writes_need_the_csrf_token() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    let body = walk_in();

    let r = app
        .request(Method::POST, "/api/v1/matters", Auth::CookieOnly(&s), Some(&body))
        .await;
    r.expect_error(403, "csrf_failed", None);

    let wrong = crate::helpers::Session {
        cookie: s.cookie.clone(),
        csrf: "not-the-token".into(),
    };
    let r = app.post_as(&wrong, "/api/v1/matters", body.clone()).await;
    r.expect_error(403, "csrf_failed", None);

    // Nothing was registered by the refused writes.
    let list = app.get_as(&s, "/api/v1/matters").await;
    assert_eq!(list.expect(200)["total"], 0);

    let r = app.post_as(&s, "/api/v1/matters", body).await;
    assert_eq!(r.expect(201)["state"], "registered");

    // Reads need no CSRF token.
    let r = app
        .request(Method::GET, "/api/v1/matters", Auth::CookieOnly(&s), None)
        .await;
    assert_eq!(r.expect(200)["total"], 1);
}

#[tokio::test]
async fn bearer_tokens_need_no_csrf_token() {
    let app = spawn_app().await;
    let r = app
        .post_bearer(&app.clerk_token, "/api/v1/matters", walk_in())
        .await;
    assert_eq!(r.expect(201)["state"], "registered");
    let me = app
        .request(
            Method::GET,
            "/api/v1/auth/me",
            Auth::Bearer(&app.clerk_token),
            None,
        )
        .await;
    assert_eq!(me.expect(200)["display_name"], "李登记");
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = app
            .client
            .get(app.url("/api/v1/auth/me"))
            .header("authorization", format!("{scheme} {}", app.clerk_token))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn tokens_created_over_the_api_work_as_bearer() {
    let app = spawn_app().await;
    let s = app.login("handler").await;
    let r = app
        .post_as(&s, "/api/v1/tokens", json!({"name": "测试脚本"}))
        .await;
    let token = r.expect(201)["token"].as_str().expect("token").to_string();
    let me = app
        .request(Method::GET, "/api/v1/auth/me", Auth::Bearer(&token), None)
        .await;
    assert_eq!(me.expect(200)["display_name"], "陈承办");
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let app = spawn_app().await;
    app.try_login("clerk", "wrong-password")
        .await
        .expect_error(401, "invalid_credentials", None);
    // An unknown user looks the same.
    app.try_login("nobody", PASSWORD)
        .await
        .expect_error(401, "invalid_credentials", None);
    app.try_login("clerk", "")
        .await
        .expect_error(422, "required", Some("password"));
    app.post_public("/api/v1/auth/login", json!({"password": PASSWORD}))
        .await
        .expect_error(422, "required", Some("username"));
}

#[tokio::test]
async fn repeated_wrong_passwords_are_rate_limited() {
    let app = spawn_app().await;
    for _ in 0..10 {
        app.try_login("supervisor", "guess")
            .await
            .expect_error(401, "invalid_credentials", None);
    }
    app.try_login("supervisor", "guess")
        .await
        .expect_error(429, "rate_limited", None);
    // Once limited, even the right password waits.
    app.try_login("supervisor", PASSWORD)
        .await
        .expect_error(429, "rate_limited", None);
}

#[tokio::test]
async fn logout_invalidates_the_session() {
    let app = spawn_app().await;
    let s = app.login("clerk").await;
    app.get_as(&s, "/api/v1/auth/me").await.expect(200);

    // Logging out is a write: it needs the CSRF token too.
    app.request(Method::POST, "/api/v1/auth/logout", Auth::CookieOnly(&s), None)
        .await
        .expect_error(403, "csrf_failed", None);

    let r = app
        .request(Method::POST, "/api/v1/auth/logout", Auth::Session(&s), None)
        .await;
    r.expect(204);
    let cleared = r
        .headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    app.get_as(&s, "/api/v1/auth/me")
        .await
        .expect_error(401, "session_expired", None);
    app.post_as(&s, "/api/v1/matters", walk_in())
        .await
        .expect_error(401, "session_expired", None);
}

#[tokio::test]
async fn sessions_expire_with_the_clock() {
    // The default configuration: 12-hour sessions.
    let app = crate::helpers::spawn_app_with(xinfang_server::Config::default()).await;
    let s = app.login("clerk").await;
    app.advance(Duration::hours(11));
    app.get_as(&s, "/api/v1/auth/me").await.expect(200);
    app.advance(Duration::hours(2));
    app.get_as(&s, "/api/v1/auth/me")
        .await
        .expect_error(401, "session_expired", None);
}

#[tokio::test]
async fn missing_malformed_and_unknown_credentials_are_401() {
    let app = spawn_app().await;
    app.get("/api/v1/matters")
        .await
        .expect_error(401, "unauthenticated", None);

    for header in [
        "Basic Y2xlcms6eA==",
        "Bearer ",
        "Bearer",
        "Bearerabc",
        "Token abc",
    ] {
        let r = app
            .client
            .get(app.url("/api/v1/matters"))
            .header("authorization", header)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 401, "{header}");
        let body: serde_json::Value = r.json().await.expect("json");
        assert_eq!(body["error"]["code"], "invalid_token", "{header}");
    }
    let long = format!("Bearer {}", "a".repeat(300));
    let r = app
        .client
        .get(app.url("/api/v1/matters"))
        .header("authorization", long)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);

    app.request(
        Method::GET,
        "/api/v1/matters",
        Auth::Bearer("unknown-token"),
        None,
    )
    .await
    .expect_error(401, "invalid_token", None);

    // A bad bearer token is refused even alongside a good session cookie: a malformed
    // credential is never treated as "no one" nor silently replaced by another.
    let s = app.login("clerk").await;
    let r = app
        .client
        .get(app.url("/api/v1/matters"))
        .header("cookie", &s.cookie)
        .header("authorization", "Bearer unknown-token")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 401);

    let forged = crate::helpers::Session {
        cookie: "xinfang_session=forged".into(),
        csrf: "x".into(),
    };
    app.get_as(&forged, "/api/v1/matters")
        .await
        .expect_error(401, "session_expired", None);
}

#[tokio::test]
async fn only_the_petition_office_registers_matters() {
    let app = spawn_app().await;
    let s = app.login("handler").await;
    app.post_as(&s, "/api/v1/matters", walk_in())
        .await
        .expect_error(403, "forbidden_transition", None);
}
