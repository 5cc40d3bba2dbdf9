//! parse MIME -> decrypt (test team key) -> verify -> extract, on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vulnmail::process::fuzz_one(data);
});
