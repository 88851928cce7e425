//! HTTP plumbing shared by the modes: clients, login, procedure discovery, the local-only check.

use anyhow::{Context, bail};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;

/// A keep-alive client with its own connection pool (one per simulated client, so each closed
/// loop keeps one connection).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(4)
        .pool_idle_timeout(Duration::from_secs(90))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// Refuses any target but this machine, and returns the base URL without a trailing slash.
pub fn local_base(url: &str) -> anyhow::Result<String> {
    let u = reqwest::Url::parse(url).with_context(|| format!("bad --url {url}"))?;
    match u.host_str() {
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1") => {}
        other => bail!(
            "refusing to load {}: the benchmark only targets 127.0.0.1",
            other.unwrap_or("a URL without a host")
        ),
    }
    if u.scheme() != "http" {
        bail!("only http:// is supported, got {url}");
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// A logged-in demo user.
#[derive(Clone, Debug)]
pub struct Login {
    /// User name.
    pub username: String,
    /// `Bearer <token>`, ready to send.
    pub auth: HeaderValue,
    /// The user's agency (staff).
    pub agency: Option<String>,
}

#[derive(Deserialize)]
struct TokenReply {
    token: String,
    user: UserReply,
}

#[derive(Deserialize)]
struct UserReply {
    agency: Option<String>,
}

/// Logs in through `POST /api/v1/auth/token`.
pub async fn login(
    c: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<Login> {
    let res = c
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": username, "password": password}))
        .send()
        .await
        .with_context(|| format!("logging in as {username} at {base}"))?;
    let st = res.status();
    let body = res.bytes().await?;
    if !st.is_success() {
        bail!(
            "login {username}: {st}: {} (is the demo province seeded?)",
            crate::stats::snippet(&body)
        );
    }
    let t: TokenReply = serde_json::from_slice(&body).context("reading the token reply")?;
    Ok(Login {
        username: username.into(),
        auth: HeaderValue::from_str(&format!("Bearer {}", t.token))?,
        agency: t.user.agency,
    })
}

/// Sends a GET and returns the JSON body; fails on a non-2xx status.
pub async fn get_json(c: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let res = c
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let st = res.status();
    let body = res.bytes().await?;
    if !st.is_success() {
        bail!("GET {url}: {st}: {}", crate::stats::snippet(&body));
    }
    Ok(serde_json::from_slice(&body)?)
}

/// A published procedure received at `agency`. With `simple`, one decided there (no competent
/// agency elsewhere) whose workflow has no step at a named agency (no inter-agency transfer),
/// so the commune's own leader and specialist can carry it through.
pub async fn find_procedure(
    c: &reqwest::Client,
    base: &str,
    agency: &str,
    simple: bool,
) -> anyhow::Result<String> {
    let mut offset = 0;
    loop {
        let page = get_json(
            c,
            &format!("{base}/api/v1/procedures?agency={agency}&limit=200&offset={offset}"),
        )
        .await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            bail!(
                "no published procedure received at {agency}{}",
                if simple {
                    " without an inter-agency step"
                } else {
                    ""
                }
            );
        }
        for it in &items {
            let Some(code) = it["code"].as_str() else {
                continue;
            };
            if !simple {
                return Ok(code.to_string());
            }
            let d = get_json(c, &format!("{base}/api/v1/procedures/{code}")).await?;
            if is_simple(&d["procedure"], agency) {
                return Ok(code.to_string());
            }
        }
        offset += items.len();
    }
}

/// Whether a procedure (as `GET /api/v1/procedures/{code}` returns it) is decided at `agency`
/// with no step at another named agency.
pub fn is_simple(p: &Value, agency: &str) -> bool {
    let competent_ok = match p["competent_agency"].as_str() {
        None => true,
        Some(a) => a == agency,
    };
    let steps = p["workflow"]["steps"].as_array();
    let no_transfer =
        steps.is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["agency"]["type"] != "agency"));
    competent_ok && no_transfer
}

/// `documents` entries giving every required upload slot of `procedure`'s form one small PDF
/// uploaded once by `who` (an online submission must attach each required document; the same
/// file may be attached to any number of the uploader's dossiers).
pub async fn required_documents(
    c: &reqwest::Client,
    base: &str,
    who: &Login,
    procedure: &str,
) -> anyhow::Result<Vec<Value>> {
    let form = get_json(c, &format!("{base}/api/v1/procedures/{procedure}/form")).await?;
    let slots: Vec<String> = form["form"]["uploads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["required"] == Value::Bool(true))
        .map(|s| match &s["name"] {
            Value::String(n) => n.clone(),
            n => n["vi"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    if slots.is_empty() {
        return Ok(Vec::new());
    }
    const BOUNDARY: &str = "motcua-bench-boundary";
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"giay-to.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&motcua_domain::files::samples::pdf());
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let res = c
        .post(format!("{base}/api/v1/files"))
        .header(reqwest::header::AUTHORIZATION, who.auth.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .context("uploading the bench's document")?;
    let st = res.status();
    let reply = res.bytes().await?;
    if !st.is_success() {
        bail!("upload: {st}: {}", crate::stats::snippet(&reply));
    }
    let v: Value = serde_json::from_slice(&reply)?;
    let key = v["key"].as_str().context("the upload answers its key")?;
    Ok(slots
        .into_iter()
        .map(|name| serde_json::json!({"name": name, "file": key}))
        .collect())
}
