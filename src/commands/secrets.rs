//! `vulnmail secrets status`: which source each secret uses, never its value.

use serde_json::json;

use super::Ctx;
use crate::cli::SecretsStatusArgs;
use crate::config::SecretSource;
use crate::output::Output;
use crate::secrets::{self, availability, describe, kind};

/// The secrets vulnmail knows of, as (config path, description).
const SECRETS: [(&str, &str, &str); 3] = [
    ("key", "passphrase", "the key passphrase"),
    ("imap", "password", "the IMAP password"),
    ("smtp", "password", "the SMTP password"),
];

pub fn status(ctx: &Ctx, a: SecretsStatusArgs) -> anyhow::Result<Output> {
    // Read the file as plain TOML: sections of later features need not be modelled here.
    let path = &ctx.paths.config_file;
    ctx.config()?; // the usual validation and error for a missing file
    let raw: toml::Table = toml::from_str(&std::fs::read_to_string(path)?)?;
    let mut rows = Vec::new();
    let mut text = String::new();
    for (section, key, what) in SECRETS {
        let Some(value) = raw.get(section).and_then(|s| s.get(key)) else {
            if section == "key" {
                text.push_str(&format!("{section}.{key:<11} not configured: the secret key is stored unprotected\n"));
                rows.push(json!({ "secret": format!("{section}.{key}"), "configured": false }));
            }
            continue;
        };
        let src: Result<SecretSource, _> = value.clone().try_into();
        let Ok(src) = src else {
            text.push_str(&format!("{section}.{key:<11} INVALID: not one of env, command, file, keyring, prompt\n"));
            rows.push(json!({ "secret": format!("{section}.{key}"), "configured": true, "valid": false }));
            continue;
        };
        let state = if a.probe {
            match &src {
                SecretSource::Prompt(_) => availability(&src, ctx.interaction()).map(|_| "asked on use"),
                _ => secrets::resolve(what, &src, ctx.interaction()).map(|_| "readable").map_err(|e| e.to_string()),
            }
        } else {
            availability(&src, ctx.interaction()).map(|_| "available")
        };
        let (ok, detail) = match &state {
            Ok(s) => (true, s.to_string()),
            Err(e) => (false, e.clone()),
        };
        text.push_str(&format!(
            "{section}.{key:<11} {} — {}\n",
            describe(&src),
            if ok { ctx.style.ok(&detail) } else { ctx.style.fail(&detail) }
        ));
        rows.push(json!({
            "secret": format!("{section}.{key}"),
            "configured": true,
            "valid": true,
            "source": kind(&src),
            "description": describe(&src),
            "available": ok,
            "detail": detail,
        }));
    }
    let bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    text.push_str(&format!(
        "OS keyring: {}\n",
        if bus {
            "a D-Bus session exists; keyring sources may work"
        } else {
            "no D-Bus session here, so keyring sources cannot work; use env, command or file sources"
        }
    ));
    Ok(Output::new(text, json!({ "secrets": rows, "dbus_session": bus })))
}
