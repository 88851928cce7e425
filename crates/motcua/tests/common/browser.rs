//! A browser without JavaScript, as the page tests use one: a session cookie, forms posted
//! URL-encoded or multipart, redirects not followed (the tests look at them).

use super::{PASSWORD, base};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// Boundary of the multipart bodies built by [`multipart`].
pub const BOUNDARY: &str = "motcua-test-boundary-Qm9vcA";

/// A client that does not follow redirects.
pub fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden `csrf` field of a page.
pub fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// `name=value` of the `Set-Cookie` header named `name`.
pub fn cookie_of(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// Status and body, or the redirect's target for a redirect.
pub async fn answer(res: reqwest::Response) -> (StatusCode, String) {
    let st = res.status();
    let loc = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let body = res.text().await.unwrap();
    (st, loc.unwrap_or(body))
}

/// A multipart body: `(name, file name, bytes)` per part, with [`BOUNDARY`].
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, file, bytes) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => out.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

/// A browser: the server it talks to and its session cookie (empty: nobody signed in).
pub struct Browser {
    /// Base URL of the server (the shared test server unless said otherwise).
    pub base: String,
    /// `motcua_session=...`, or empty.
    pub cookie: String,
}

impl Browser {
    /// Nobody signed in, on the shared test server.
    pub fn anonymous() -> Browser {
        Browser::with_cookie(String::new())
    }

    /// A browser holding `cookie` (a session pair, or anything forged), on the shared server.
    pub fn with_cookie(cookie: String) -> Browser {
        Browser {
            base: base().to_string(),
            cookie,
        }
    }

    /// Signs `user` in with the demo password through the sign-in form.
    pub async fn sign_in(user: &str) -> Browser {
        Browser::sign_in_at(base(), user, PASSWORD).await
    }

    /// Signs `user` in with `password` through the sign-in form.
    pub async fn sign_in_with(user: &str, password: &str) -> Browser {
        Browser::sign_in_at(base(), user, password).await
    }

    /// Signs `user` in on the server at `at` through its sign-in form (with its CSRF cookie).
    pub async fn sign_in_at(at: &str, user: &str, password: &str) -> Browser {
        let res = raw().get(format!("{at}/dang-nhap")).send().await.unwrap();
        let login = cookie_of(&res, "motcua_login_csrf").expect("login csrf cookie");
        let csrf = csrf_in(&res.text().await.unwrap());
        let res = raw()
            .post(format!("{at}/dang-nhap"))
            .header(COOKIE, login)
            .form(&[("username", user), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "sign-in {user}");
        Browser {
            base: at.to_string(),
            cookie: cookie_of(&res, "motcua_session").expect("session cookie"),
        }
    }

    fn send_with(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if self.cookie.is_empty() {
            rb
        } else {
            rb.header(COOKIE, &self.cookie)
        }
    }

    /// `GET path`: status and body (or the redirect's target).
    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let rb = self.send_with(raw().get(format!("{}{path}", self.base)));
        answer(rb.send().await.unwrap()).await
    }

    /// Posts a URL-encoded form.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let rb = self.send_with(raw().post(format!("{}{path}", self.base)).form(fields));
        answer(rb.send().await.unwrap()).await
    }

    /// Posts a multipart body built by [`multipart`] (or with [`BOUNDARY`]).
    pub async fn post_multipart(&self, path: &str, body: Vec<u8>) -> (StatusCode, String) {
        let rb = raw()
            .post(format!("{}{path}", self.base))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        answer(self.send_with(rb).send().await.unwrap()).await
    }

    /// The CSRF token shown on `path` (which must answer 200).
    pub async fn csrf(&self, path: &str) -> String {
        let (st, html) = self.get(path).await;
        assert_eq!(st, StatusCode::OK, "{path}: {html}");
        csrf_in(&html)
    }
}
