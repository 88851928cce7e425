//! `search-http`: the catalogue search as people reach it, over HTTP against a running server:
//! searches through `GET /api/v1/procedures/search` and, in the typing mix, suggestions through
//! the page fragment `GET /thu-tuc/goi-y` (what the search box's htmx asks for). The queries are
//! those of `search`, made from the catalogue file; the server searches whatever catalogue it
//! has published (import the same file first: `motcua import procedures FILE`).

use crate::Common;
use crate::search::{Mix, Query, Rng, load, queries};
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;

/// The request path (with its query string) of one query.
fn path(base_path: &str, q: &Query, limit: usize) -> anyhow::Result<String> {
    let (route, params): (&str, Vec<(&str, String)>) = if q.suggest {
        ("/thu-tuc/goi-y", vec![("q", q.text.clone())])
    } else {
        (
            "/api/v1/procedures/search",
            vec![("q", q.text.clone()), ("limit", limit.to_string())],
        )
    };
    let url = reqwest::Url::parse_with_params(&format!("http://h{base_path}{route}"), &params)?;
    Ok(format!(
        "{}?{}",
        url.path(),
        url.query().unwrap_or_default()
    ))
}

/// Runs the benchmark and prints the summary line.
pub async fn run(
    c: &Common,
    catalogue: &Path,
    mix: Mix,
    limit: usize,
) -> anyhow::Result<Vec<String>> {
    let real = load(&catalogue.to_path_buf())?;
    anyhow::ensure!(!real.is_empty(), "no procedure in {}", catalogue.display());
    let qs = queries(&real, mix, &mut Rng(0x9E37_79B9_7F4A_7C15));
    let base_path = crate::submit::url_path(&c.base);
    let paths: Vec<String> = qs
        .iter()
        .map(|q| path(&base_path, q, limit))
        .collect::<anyhow::Result<_>>()?;
    let paths = Arc::new(paths);
    println!(
        "search-http: {} queries ({:?} mix), {} clients for {:?} against {}",
        paths.len(),
        mix,
        c.clients,
        c.duration,
        c.base
    );
    // The server builds its catalogue and search index once, in the background, when it starts
    // (seconds at 100,000 procedures): wait for the first answer, so the run measures searches,
    // not that build.
    let ready = std::time::Instant::now();
    let first = format!("{}{}", c.base, &paths[0][base_path.len()..]);
    let res = crate::http::client()
        .get(&first)
        .timeout(std::time::Duration::from_secs(300))
        .send()
        .await
        .with_context(|| format!("the first search ({first})"))?;
    anyhow::ensure!(
        res.status().is_success(),
        "the first search ({first}) answered {}",
        res.status()
    );
    println!(
        "  first answer after {:.2} s (the server's catalogue ready)",
        ready.elapsed().as_secs_f64()
    );
    let (addr, host) = crate::raw::resolve(&c.base).await?;
    let host = Arc::new(host);
    let target = format!("{} ({:?} mix)", c.base, mix).to_lowercase();
    crate::closed_loop::run(c, addr, "search-http", &target, 200, |i| {
        let (paths, host) = (paths.clone(), host.clone());
        // Each client walks the queries from its own place, as in `search`.
        let mut at = i * 7919;
        move |out: &mut Vec<u8>| {
            crate::raw::build(out, "GET", &paths[at % paths.len()], &host, None, None);
            at += 1;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_and_suggestions_have_their_routes_and_encoded_words() {
        let search = Query {
            kind: "accented",
            text: "Đăng ký khai sinh".into(),
            intended: None,
            suggest: false,
        };
        let p = path("", &search, 20).unwrap();
        assert_eq!(
            p,
            "/api/v1/procedures/search?q=%C4%90%C4%83ng+k%C3%BD+khai+sinh&limit=20"
        );
        let suggest = Query {
            kind: "suggest",
            text: "dang ky k".into(),
            intended: None,
            suggest: true,
        };
        assert_eq!(
            path("/motcua", &suggest, 20).unwrap(),
            "/motcua/thu-tuc/goi-y?q=dang+ky+k"
        );
    }
}
