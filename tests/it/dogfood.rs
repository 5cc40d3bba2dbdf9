//! This repository publishes its own key with vulnmail: keys/, .well-known/ and
//! SECURITY.md must stay consistent with `key check`.

use crate::common::*;

#[test]
fn the_repository_s_own_publication_passes_key_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = Env::new();
    let o = env
        .vm()
        .arg("--config")
        .arg(root.join("docs/publish/vulnmail.toml"))
        .args(["key", "check", "--json", "--dir"])
        .arg(root)
        .arg("--cert")
        .arg(root.join("keys/security@vulnmail.example.asc"))
        .output()
        .unwrap();
    let v = json(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the repository's published key is inconsistent (or about to expire: refresh with \
         `vulnmail key publish` using the project key): {v:#}"
    );
    assert_eq!(check_status(&v, "secret-key"), ["skip"]);
}
