fn main() {
    let raw = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let m = vulnmail::mail::mime::parse(&raw, &Default::default()).unwrap();
    for p in m.root.walk() {
        println!("{} raw={} body={} params={:?}", p.ctype, p.raw.len(), p.body.len(), p.params);
        if p.ctype == "multipart/signed" {
            let c = &p.children[0];
            let s = String::from_utf8_lossy(&c.raw);
            println!("FIRST RAW START {:?}", &s[..s.len().min(120)]);
            println!("FIRST RAW END {:?}", &s[s.len().saturating_sub(80)..]);
        }
    }
}
