//! A short, bounded fuzz run in CI: the corpus messages, mutated (bit flips,
//! truncation, splicing, repeated boundaries), through the fuzz target's entry
//! point. Deterministic (seeded), so a failure is reproducible; the seed is printed.

use std::path::Path;

#[test]
fn mutated_corpus_messages_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    let mut inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let iterations: usize = std::env::var("VULNMAIL_FUZZ_ITERATIONS").ok().and_then(|s| s.parse().ok()).unwrap_or(5000);
    // Panics inside dependencies are contained by vulnmail (and become errors);
    // a panic in vulnmail's own code is a bug this test must catch.
    static OWN_PANICS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let here = info.location().map(|l| l.file().to_string()).unwrap_or_default();
        if here.contains("/.cargo/registry/") || here.contains("/rustc/") {
            return;
        }
        if let Ok(mut v) = OWN_PANICS.try_lock() {
            v.push(format!("{info}"));
        }
        previous(info);
    }));
    let mut seed: u64 = std::env::var("VULNMAIL_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xf022_5eed);
    eprintln!("fuzz smoke: seed {seed}, {iterations} iterations");
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..iterations {
        let base = &inputs[(next() as usize) % inputs.len()];
        let mut m = base.clone();
        match next() % 6 {
            0 => {
                for _ in 0..1 + next() % 16 {
                    let at = (next() as usize) % m.len().max(1);
                    if let Some(b) = m.get_mut(at) {
                        *b ^= 1 << (next() % 8);
                    }
                }
            }
            1 => m.truncate((next() as usize) % m.len().max(1)),
            2 => {
                let other = &inputs[(next() as usize) % inputs.len()];
                let a = (next() as usize) % m.len().max(1);
                let b = (next() as usize) % other.len().max(1);
                m.truncate(a);
                m.extend_from_slice(&other[b..]);
            }
            3 => {
                // Repeat a slice (boundaries, armor lines) many times.
                let a = (next() as usize) % m.len().max(1);
                let len = 1 + (next() as usize) % 200;
                let slice: Vec<u8> = m[a..(a + len).min(m.len())].to_vec();
                for _ in 0..(next() % 50) {
                    m.splice(a..a, slice.iter().copied());
                }
            }
            4 => {
                // Mangle inside an armored block, if any.
                if let Some(pos) = m.windows(10).position(|w| w == b"-----BEGIN") {
                    let at = pos + 40 + (next() as usize) % 400;
                    if at < m.len() {
                        m[at] = b"AZaz09+/=\n"[(next() % 10) as usize];
                    }
                }
            }
            _ => {
                let at = (next() as usize) % m.len().max(1);
                m.insert(at, (next() % 256) as u8);
            }
        }
        let r = std::panic::catch_unwind(|| vulnmail::process::fuzz_one(&m));
        let own = OWN_PANICS.lock().unwrap().clone();
        if r.is_err() || !own.is_empty() {
            let path = std::env::temp_dir().join(format!("vulnmail-fuzz-crash-{i}.eml"));
            std::fs::write(&path, &m).unwrap();
            panic!("iteration {i} panicked ({own:?}); input saved to {}", path.display());
        }
    }
}
