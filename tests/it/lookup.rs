//! Looking up a reporter's key in a Web Key Directory (a local HTTPS server).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::*;
use crate::mailservers::MailServers;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// python3's http.server over TLS on 127.0.0.1, serving `root`.
fn https_server(root: &Path, cert: &str, key: &str) -> Server {
    let script = r#"
import http.server, ssl, socket, sys, functools
root, cert, key = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
print(httpd.server_address[1], flush=True)
httpd.serve_forever()
"#;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(root)
        .arg(cert)
        .arg(key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    Server { child, port: line.trim().parse().unwrap() }
}

#[test]
fn an_unknown_signer_is_found_in_wkd_and_the_signature_then_verifies() {
    let ms = MailServers::start();
    let env = Env::new();
    env.init();
    let keys = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keys");
    // Ada's certificate in a WKD tree (binary, as WKD serves it).
    let root = env.path("www");
    let hash = vulnmail::publish::wkd::hash_local_part("ada");
    let dir = root.join(".well-known/openpgpkey/example.net/hu");
    std::fs::create_dir_all(&dir).unwrap();
    let cert =
        vulnmail::openpgp::keys::parse_certs(&std::fs::read(keys.join("ada.pub.asc")).unwrap()).unwrap().remove(0);
    std::fs::write(dir.join(&hash), vulnmail::openpgp::keys::binary(&cert).unwrap()).unwrap();
    let server = https_server(&root, ms.get("MS_SERVER_CERT"), ms.get("MS_SERVER_KEY"));

    // A report cleartext-signed by Ada, who attached no key.
    let body = env.path("body.txt");
    std::fs::write(&body, "Summary: open redirect in /login?next=\n").unwrap();
    let o = env.sq(&[
        "sign",
        "--cleartext-signature",
        "--signer-key",
        keys.join("ada.sec.asc").to_str().unwrap(),
        body.to_str().unwrap(),
    ]);
    let signed = String::from_utf8(ok(&o).stdout.clone()).unwrap();
    let mail = env.path("r.eml");
    std::fs::write(
        &mail,
        format!("From: Ada Reporter <ada@example.net>\r\nTo: security@example.org\r\nSubject: redirect\r\nMessage-ID: <l1@example.net>\r\n\r\n{}", signed.replace('\n', "\r\n")),
    )
    .unwrap();

    // Without [lookup]: unknown key.
    let other = Env::new();
    other.init();
    other.vmp().arg("import").arg(&mail).assert().success();
    let v = json(&other.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap());
    assert_eq!(v["signature"]["status"], "unknown-key");

    let cfg = std::fs::read_to_string(env.config_file()).unwrap();
    std::fs::write(
        env.config_file(),
        format!(
            "{cfg}\n[lookup]\nwkd = true\nwkd_urls = [\"https://127.0.0.1:{}/.well-known/openpgpkey/{{domain}}/hu/{{hash}}?l={{local}}\"]\nca_file = \"{}\"\n",
            server.port,
            ms.get("MS_CA")
        ),
    )
    .unwrap();
    env.vmp().arg("import").arg(&mail).assert().success();
    let v = json(&env.vmp().args(["show", "VR-2026-0001", "--json"]).output().unwrap());
    assert_eq!(v["signature"]["status"], "good", "{v}");
    assert_eq!(v["signature"]["signer_matches_from"], true);
    let certs = json(&env.vmp().args(["certs", "--json"]).output().unwrap());
    assert!(certs[0]["source"].as_str().unwrap().starts_with("wkd "), "{certs}");
    assert_eq!(certs[0]["addresses"][0], "ada@example.net");
}
