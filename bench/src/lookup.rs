//! `lookup`: anyone checks a dossier's status by its code, without logging in (W3).

use crate::Common;
use anyhow::{Context, bail};
use std::path::Path;
use std::sync::Arc;

/// SplitMix64: a tiny, fast generator, one per client.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

fn read_codes(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading codes from {}", path.display()))?;
    let codes: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if codes.is_empty() {
        bail!("{} holds no dossier codes", path.display());
    }
    Ok(codes)
}

pub async fn run(c: &Common, codes_file: &Path) -> anyhow::Result<Vec<String>> {
    let codes = Arc::new(read_codes(codes_file)?);
    println!(
        "lookup: {} codes from {}, {} clients for {:?} against {}",
        codes.len(),
        codes_file.display(),
        c.clients,
        c.duration,
        c.base
    );
    let (addr, host) = crate::raw::resolve(&c.base).await?;
    let prefix = Arc::new(format!(
        "{}/api/v1/public/status/",
        crate::submit::url_path(&c.base)
    ));
    let host = Arc::new(host);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    crate::closed_loop::run(c, addr, "lookup", &c.base, 200, |i| {
        let (codes, prefix, host) = (codes.clone(), prefix.clone(), host.clone());
        let mut rng = Rng(seed ^ ((i as u64 + 1) << 40));
        let mut path = String::with_capacity(prefix.len() + 48);
        move |out: &mut Vec<u8>| {
            path.clear();
            path.push_str(&prefix);
            path.push_str(&codes[rng.below(codes.len())]);
            crate::raw::build(out, "GET", &path, &host, None, None);
        }
    })
    .await
}
