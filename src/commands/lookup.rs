//! Finding a reporter's certificate by the From address: WKD and a keyserver,
//! only when `[lookup]` enables them.

use std::time::Duration;

use sequoia_openpgp::Cert;

use crate::config::LookupConfig;
use crate::mail::https;
use crate::openpgp::{keys, policy, uid_email};
use crate::publish::wkd;

/// The URLs to try for `address`, in order.
pub fn urls(cfg: &LookupConfig, address: &str) -> Vec<String> {
    let Some((local, domain)) = address.rsplit_once('@') else { return Vec::new() };
    let domain = domain.to_ascii_lowercase();
    let fill = |t: &str| {
        t.replace("{local}", &wkd::percent_encode(local))
            .replace("{hash}", &wkd::hash_local_part(local))
            .replace("{domain}", &domain)
            .replace("{email}", &wkd::percent_encode(address))
    };
    let mut out = Vec::new();
    if cfg.wkd {
        if cfg.wkd_urls.is_empty() {
            out.push(fill("https://openpgpkey.{domain}/.well-known/openpgpkey/{domain}/hu/{hash}?l={local}"));
            out.push(fill("https://{domain}/.well-known/openpgpkey/hu/{hash}?l={local}"));
        } else {
            out.extend(cfg.wkd_urls.iter().map(|t| fill(t)));
        }
    }
    if let Some(k) = &cfg.keyserver_url {
        out.push(fill(k));
    }
    out
}

/// A certificate with a valid user ID for `address`, from the first source that has one.
pub fn find(cfg: &LookupConfig, address: &str) -> Result<Option<(String, Cert)>, String> {
    let timeout = Duration::from_secs(cfg.timeout_seconds.unwrap_or(10).max(1));
    let mut errors = Vec::new();
    let p = policy();
    for url in urls(cfg, address) {
        match https::get(&url, cfg.ca_file.as_deref(), timeout, 1024 * 1024) {
            Ok(Some(body)) => {
                let Ok(certs) = keys::parse_certs(&body) else {
                    errors.push(format!("{url}: not a certificate"));
                    continue;
                };
                for c in certs {
                    let ok = c.with_policy(&p, std::time::SystemTime::now()).is_ok_and(|vc| {
                        vc.userids().any(|u| uid_email(u.userid()).is_some_and(|e| e.eq_ignore_ascii_case(address)))
                    });
                    if ok {
                        let source = if url.contains("/.well-known/openpgpkey/") { "wkd" } else { "keyserver" };
                        return Ok(Some((format!("{source} {url}"), c.strip_secret_key_material())));
                    }
                }
                errors.push(format!("{url}: no certificate for {address}"));
            }
            Ok(None) => {}
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() { Ok(None) } else { Err(errors.join("; ")) }
}
